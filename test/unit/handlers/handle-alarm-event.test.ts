import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, type SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleAlarmEvent } from '../../../functions/handle-alarm-event/core';
import { startSoak } from '../../../functions/start-soak/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { alarmEvent, buildPlan, FakeCallbackTable, ORDER_GATEWAY_ALARMS } from './builders';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAddd-soak';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let cloudwatch: AwsClientStub<CloudWatchClient>;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  cloudwatch = mockClient(deps.clients.cloudwatch);
  new FakeCallbackTable(ddb);
  sfn.on(SendTaskFailureCommand).resolves({});
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: ORDER_GATEWAY_ALARMS.map((name) => ({ AlarmName: name, StateValue: 'OK' })) });
});

/** order-gateway's deploy starts soaking (its alarms all OK). */
async function orderGatewaySoaking(): Promise<void> {
  await startSoak.core({ executionId: EXECUTION_ID, taskToken: TOKEN, plan: buildPlan(), deploymentId: 'ecs-svc/2222222222222222222' }, deps);
  expect(sfn).not.toHaveReceivedAnyCommand();
}

const handle = (...args: Parameters<typeof alarmEvent>) => handleAlarmEvent.core(alarmEvent(...args), deps);

describe('handle-alarm-event', () => {
  it.each([...ORDER_GATEWAY_ALARMS])("ends the soaking deploy with RollbackAlarmFiredError when %s goes into ALARM", async (alarmName) => {
    await orderGatewaySoaking();

    await expect(handle(alarmName, 'ALARM')).resolves.toEqual({ alarmName, service: 'order-gateway', action: 'ended-soak', delivery: 'delivered' });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'RollbackAlarmFiredError',
      cause: `${alarmName} went into ALARM at 2025-07-05T12:20:00.000+0000: Threshold Crossed: 2 datapoints were greater than the threshold (1.0).`,
    });
  });

  it("reads the soak of the alarm's own service", async () => {
    await handle('prod-order-gateway-latency-p99', 'ALARM');

    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'callbacks', Key: { pk: { S: 'soak#order-gateway' } }, ConsistentRead: true });
  });

  it.each(['OK', 'INSUFFICIENT_DATA'] as const)('does nothing when an alarm goes to %s', async (state) => {
    await orderGatewaySoaking();
    ddb.resetHistory();

    await expect(handle('prod-order-gateway-error-rate', state)).resolves.toEqual({
      alarmName: 'prod-order-gateway-error-rate',
      action: 'none',
      why: `state is ${state}`,
    });

    expect(ddb).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('does nothing for an alarm that is not a rollback alarm of the fleet', async () => {
    await orderGatewaySoaking();
    ddb.resetHistory();

    await expect(handle('prod-billing-error-rate', 'ALARM')).resolves.toEqual({
      alarmName: 'prod-billing-error-rate',
      action: 'none',
      why: 'not a rollback alarm of this fleet',
    });

    expect(ddb).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('does not end the soak of another service', async () => {
    await orderGatewaySoaking();

    await expect(handle('prod-market-data-error-rate', 'ALARM')).resolves.toEqual({
      alarmName: 'prod-market-data-error-rate',
      service: 'market-data',
      action: 'none',
      why: 'no deploy is soaking',
    });

    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('does nothing when no deploy of the service is soaking', async () => {
    await expect(handle('prod-order-gateway-error-rate', 'ALARM')).resolves.toMatchObject({ action: 'none', why: 'no deploy is soaking' });

    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('reports a soak that already ended instead of throwing', async () => {
    await orderGatewaySoaking();
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    await expect(handle('prod-order-gateway-error-rate', 'ALARM')).resolves.toMatchObject({ action: 'ended-soak', delivery: 'task-already-closed' });
  });
});
