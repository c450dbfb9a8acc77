import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runHealthGate } from '../../../functions/run-health-gate/core';
import type { DeployPlan } from '../../../functions/shared/domain/deploy-plan';
import { HealthGateFailedError } from '../../../functions/shared/runtime/errors';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import {
  auditRecords,
  auditTrail,
  buildDeployment,
  buildPlan,
  buildService,
  buildStoppedTask,
  healthyWorld,
  NEW_REVISION_ARN,
  PREVIOUS_REVISION_ARN,
  type ServiceWorld,
  stubServiceWorld,
} from './builders';

const SINCE = '2025-07-05T12:01:30.000Z';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let world: ServiceWorld;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2025-07-05T12:10:00.000Z'));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  world = healthyWorld();
  stubServiceWorld(deps, world);
});

afterEach(() => {
  vi.useRealTimers();
});

function gate(options: { phase?: 'release' | 'final' | 'rollback'; expected?: string; plan?: DeployPlan } = {}) {
  return runHealthGate.core(
    {
      executionId: EXECUTION_ID,
      plan: options.plan ?? buildPlan(),
      phase: options.phase ?? 'release',
      expectedTaskDefinitionArn: options.expected ?? NEW_REVISION_ARN,
      since: SINCE,
    },
    deps,
  );
}

async function gateError(options: Parameters<typeof gate>[0] = {}): Promise<Error> {
  const error = await gate(options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HealthGateFailedError);
  return error as Error;
}

describe('run-health-gate', () => {
  it('passes a HEALTHY service and returns the report', async () => {
    const report = await gate();

    expect(report.status).toBe('HEALTHY');
    expect(report.taskDefinitionArn).toBe(NEW_REVISION_ARN);
    expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
  });

  it('writes intent and outcome records named after the phase', async () => {
    await gate({ phase: 'final' });

    expect(auditTrail(ddb)).toEqual(['deploy.health-gate.final intent started', 'deploy.health-gate.final outcome succeeded']);
    expect(auditRecords(ddb)[1]?.after).toEqual({ status: 'HEALTHY', taskDefinitionArn: NEW_REVISION_ARN });
  });

  it('fails on a rollback alarm in ALARM, naming the check and the alarm', async () => {
    world.alarms = [
      { AlarmName: 'prod-order-gateway-error-rate', StateValue: 'OK' },
      { AlarmName: 'prod-order-gateway-latency-p99', StateValue: 'ALARM' },
    ];

    const error = await gateError();

    expect(error.message).toBe('order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-latency-p99');
  });

  it('fails on INSUFFICIENT_DATA: DEGRADED is not a pass', async () => {
    world.alarms = [
      { AlarmName: 'prod-order-gateway-error-rate', StateValue: 'INSUFFICIENT_DATA' },
      { AlarmName: 'prod-order-gateway-latency-p99', StateValue: 'OK' },
    ];

    const error = await gateError();

    expect(error.message).toBe('order-gateway is DEGRADED (release gate): alarms degraded: INSUFFICIENT_DATA: prod-order-gateway-error-rate');
  });

  it('fails when a task health endpoint does not answer 200, with the task and its answer as evidence', async () => {
    world.http.set('10.0.1.12', { status: 500, body: 'FIX session to LSE down' });

    const error = await gateError();

    expect(error.message).toContain('http degraded: 3/4 tasks answer 200 on /health/deep; e.g. 10.0.1.12: 500 FIX session to LSE down');
  });

  it('fails when the service does not run the expected revision', async () => {
    world.service = buildService([buildDeployment({ taskDefinition: PREVIOUS_REVISION_ARN })]);

    const error = await gateError();

    expect(error.message).toMatch(/^order-gateway is UNHEALTHY \(release gate\): rollout fail: running order-gateway:41, expected order-gateway:42/);
  });

  it('passes the rollback gate on the previous revision', async () => {
    world.service = buildService([buildDeployment({ taskDefinition: PREVIOUS_REVISION_ARN })]);
    world.runningTasks = world.runningTasks.map((t) => ({ ...t, taskDefinitionArn: PREVIOUS_REVISION_ARN }));

    await expect(gate({ phase: 'rollback', expected: PREVIOUS_REVISION_ARN })).resolves.toMatchObject({ status: 'HEALTHY' });
  });

  it('names every failing check in the message', async () => {
    world.service = { ...world.service, runningCount: 3 };
    world.stoppedTasks = [buildStoppedTask('crashed', 'EssentialContainerExited', '2025-07-05T12:04:00.000Z')];

    const error = await gateError({ phase: 'final' });

    expect(error.message).toMatch(
      /^order-gateway is DEGRADED \(final gate\): capacity degraded: 3\/4 tasks running; stopped-tasks degraded: 1 failed task\(s\) of order-gateway:42: crashed EssentialContainerExited/,
    );
  });

  it('only counts task failures since the given time', async () => {
    world.stoppedTasks = [buildStoppedTask('before-rollout', 'TaskFailedToStart', '2025-07-05T12:00:00.000Z')];

    await expect(gate()).resolves.toMatchObject({ status: 'HEALTHY' });
  });

  it('skips the HTTP check for a plan without one', async () => {
    const plan = buildPlan({ healthCheck: {} });

    await expect(gate({ plan })).resolves.toMatchObject({ status: 'HEALTHY' });
    expect(deps.http).not.toHaveBeenCalled();
  });

  it('records the failed gate as a failed outcome', async () => {
    world.alarms = [];

    await gateError();

    expect(auditTrail(ddb)).toEqual(['deploy.health-gate.release intent started', 'deploy.health-gate.release outcome failed']);
    expect(auditRecords(ddb)[1]?.error).toMatchObject({ name: 'HealthGateFailedError', message: expect.stringContaining('alarms fail: not found: ') });
  });
});
