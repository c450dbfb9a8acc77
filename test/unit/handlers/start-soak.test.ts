import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeployPlan } from '../../../functions/shared/domain/deploy-plan';
import { startSoak } from '../../../functions/start-soak/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { buildPlan, FakeCallbackTable, ORDER_GATEWAY_ALARMS } from './builders';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAccc-soak';
const DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
const NOW = new Date('2025-07-05T12:12:00.000Z');

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let cloudwatch: AwsClientStub<CloudWatchClient>;
let table: FakeCallbackTable;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  cloudwatch = mockClient(deps.clients.cloudwatch);
  table = new FakeCallbackTable(ddb);
  sfn.on(SendTaskFailureCommand).resolves({});
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: ORDER_GATEWAY_ALARMS.map((name) => ({ AlarmName: name, StateValue: 'OK' })) });
});

afterEach(() => {
  vi.useRealTimers();
});

const soak = (plan: DeployPlan = buildPlan()) => startSoak.core({ executionId: EXECUTION_ID, taskToken: TOKEN, plan, deploymentId: DEPLOYMENT_ID }, deps);

describe('start-soak', () => {
  it('stores the token under soak#<service> with the alarms it watches and when the soak ends', async () => {
    await soak(buildPlan({ soakSeconds: 300 }));

    expect(table.item('soak#order-gateway')).toEqual({
      pk: 'soak#order-gateway',
      taskToken: TOKEN,
      executionId: EXECUTION_ID,
      deploymentId: DEPLOYMENT_ID,
      alarmNames: [...ORDER_GATEWAY_ALARMS],
      soakEndsAt: '2025-07-05T12:17:00.000Z',
      expiresAt: NOW.getTime() / 1000 + 7 * 24 * 3600,
    });
  });

  it('leaves a quiet soak running: nobody completes it but its timeout', async () => {
    await expect(soak()).resolves.toEqual({ watching: [...ORDER_GATEWAY_ALARMS], firing: [] });

    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: [...ORDER_GATEWAY_ALARMS] });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('fails the soak at once with RollbackAlarmFiredError when an alarm is already in ALARM', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'prod-order-gateway-error-rate', StateValue: 'OK' },
        { AlarmName: 'prod-order-gateway-latency-p99', StateValue: 'ALARM', StateReason: 'Threshold Crossed: 2 of 3 datapoints > 2.0' },
      ],
    });

    await expect(soak()).resolves.toEqual({ watching: [...ORDER_GATEWAY_ALARMS], firing: ['prod-order-gateway-latency-p99'] });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'RollbackAlarmFiredError',
      cause: 'prod-order-gateway-latency-p99 is in ALARM: Threshold Crossed: 2 of 3 datapoints > 2.0',
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('stores the token before looking at the alarms, so an alarm event in between finds it', async () => {
    await soak();

    const [stored] = ddb.commandCalls(UpdateItemCommand);
    const [described] = cloudwatch.commandCalls(DescribeAlarmsCommand);
    expect(stored && described && stored.calledBefore(described)).toBe(true);
  });

  it('tolerates a soak that already closed', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'prod-order-gateway-error-rate', StateValue: 'ALARM' }] });
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    await expect(soak()).resolves.toMatchObject({ firing: ['prod-order-gateway-error-rate'] });
  });

  it('watches nothing and asks CloudWatch nothing when the service has no rollback alarms', async () => {
    await expect(soak(buildPlan({ rollbackAlarmNames: [] }))).resolves.toEqual({ watching: [] });

    expect(cloudwatch).not.toHaveReceivedAnyCommand();
    expect(table.item('soak#order-gateway')).toMatchObject({ taskToken: TOKEN });
  });
});
