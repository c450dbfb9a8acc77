import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awaitDeploymentOutcome } from '../../../functions/await-deployment-outcome/core';
import { handleDeploymentEvent } from '../../../functions/handle-deployment-event/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import {
  ACCOUNT,
  auditRecords,
  buildDeployment,
  buildPlan,
  buildService,
  CLUSTER,
  deploymentEvent,
  FakeCallbackTable,
  NEW_REVISION_ARN,
  stubDescribeServices,
} from './builders';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAbbb-wait-for-deployment';
const DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
const STARTED_AT = '2025-07-05T12:01:30.000Z';
/** 30 s after the events' time (maxEventAgeSeconds is 300 in the example fleet). */
const NOW = new Date('2025-07-05T12:10:30.000Z');

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let ecs: AwsClientStub<ECSClient>;
let table: FakeCallbackTable;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  ecs = mockClient(deps.clients.ecs);
  table = new FakeCallbackTable(ddb);
  ddb.on(PutItemCommand).resolves({});
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  stubDescribeServices(
    ecs,
    buildService([buildDeployment({ id: DEPLOYMENT_ID, taskDefinition: NEW_REVISION_ARN, rolloutState: 'IN_PROGRESS', createdAt: new Date(STARTED_AT) })]),
  );
});

/** The deploy's wait state stores its token (ECS still rolling out, so it keeps waiting). */
async function tokenStored(notBefore = STARTED_AT): Promise<void> {
  const result = await awaitDeploymentOutcome.core(
    { executionId: EXECUTION_ID, taskToken: TOKEN, plan: buildPlan(), deploymentId: DEPLOYMENT_ID, notBefore },
    deps,
  );
  expect(result).toEqual({ waiting: true, deploymentId: DEPLOYMENT_ID });
}

afterEach(() => {
  vi.useRealTimers();
});

const handle = (...args: Parameters<typeof deploymentEvent>) => handleDeploymentEvent.core(deploymentEvent(...args), deps);

describe('handle-deployment-event: a state is waiting', () => {
  it('completes the wait with SendTaskSuccess when the deployment COMPLETED', async () => {
    await tokenStored();

    await expect(
      handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID, updatedAt: '2025-07-05T12:06:00.000Z', reason: 'steady state' }),
    ).resolves.toEqual({
      deploymentId: DEPLOYMENT_ID,
      action: 'delivered',
    });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ deploymentId: DEPLOYMENT_ID, status: 'COMPLETED', reason: 'steady state', at: '2025-07-05T12:06:00.000Z' }),
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('fails the wait with DeploymentFailedError and the ECS reason when the deployment FAILED', async () => {
    await tokenStored();

    await handle('SERVICE_DEPLOYMENT_FAILED', {
      deploymentId: DEPLOYMENT_ID,
      updatedAt: '2025-07-05T12:06:00.000Z',
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
    });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'DeploymentFailedError',
      cause: `Deployment ${DEPLOYMENT_ID} failed: ECS deployment circuit breaker: tasks failed to start.`,
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('records the outcome on the deployment item beside the token', async () => {
    await tokenStored();

    await handle('SERVICE_DEPLOYMENT_FAILED', { deploymentId: DEPLOYMENT_ID, updatedAt: '2025-07-05T12:06:00.000Z', reason: 'r' });

    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).toMatchObject({
      taskToken: TOKEN,
      notBefore: STARTED_AT,
      outcome: { deploymentId: DEPLOYMENT_ID, status: 'FAILED', reason: 'r', at: '2025-07-05T12:06:00.000Z' },
    });
  });

  it('ignores an outcome older than the wait (a re-promoted deployment id finishing its earlier rollout)', async () => {
    await tokenStored('2025-07-05T12:30:00.000Z');

    await expect(handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID, updatedAt: '2025-07-05T12:06:00.000Z' })).resolves.toEqual({
      deploymentId: DEPLOYMENT_ID,
      action: 'recorded',
    });

    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('delivers an outcome at exactly notBefore', async () => {
    await tokenStored();

    await expect(handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID, updatedAt: STARTED_AT })).resolves.toMatchObject({
      action: 'delivered',
    });
  });

  it('reports a task that already closed instead of throwing', async () => {
    await tokenStored();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    await expect(handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID, updatedAt: '2025-07-05T12:06:00.000Z' })).resolves.toEqual({
      deploymentId: DEPLOYMENT_ID,
      action: 'task-already-closed',
    });
  });
});

describe('handle-deployment-event: nothing is waiting', () => {
  it('a COMPLETED event for a deployment id nobody awaits changes nothing: nothing stored, nothing delivered', async () => {
    await expect(handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID })).resolves.toEqual({
      deploymentId: DEPLOYMENT_ID,
      action: 'not-awaited',
      why: `no deploy of order-gateway awaits deployment ${DEPLOYMENT_ID}`,
    });

    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).toBeUndefined();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('does nothing at all for an IN_PROGRESS event', async () => {
    await tokenStored();
    ddb.resetHistory();

    await expect(handle('SERVICE_DEPLOYMENT_IN_PROGRESS', { deploymentId: DEPLOYMENT_ID })).resolves.toEqual({ deploymentId: DEPLOYMENT_ID, action: 'none' });

    expect(ddb).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).not.toHaveProperty('outcome');
  });
});

describe('handle-deployment-event: events nobody can forge or backdate', () => {
  const completed = deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID, updatedAt: '2025-07-05T12:06:00.000Z' });
  const otherService = `arn:aws:ecs:eu-west-2:${ACCOUNT}:service/${CLUSTER}/someone-elses-service`;

  it('a forged COMPLETED event for a deployment id nobody awaits changes nothing while a deploy waits for another', async () => {
    await tokenStored();
    ddb.resetHistory();
    const forged = 'ecs-svc/9999999999999999999';

    await expect(handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: forged, updatedAt: '2025-07-05T12:06:00.000Z' })).resolves.toMatchObject({
      action: 'not-awaited',
    });

    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(table.item(`deployment#${forged}`)).toBeUndefined();
    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).not.toHaveProperty('outcome');
  });

  it.each([
    ['from a foreign account', { account: '999999999999' }, 'event from foreign account 999999999999'],
    ['from a foreign region', { region: 'us-east-1' }, 'event from foreign region us-east-1'],
    ['replayed from an archive', { 'replay-name': 'replay-1' }, 'replayed event (replay replay-1)'],
    ['backdated beyond maxEventAgeSeconds', { time: '2025-07-05T12:05:29Z' }, 'stale event: 301 s old, more than 300 s'],
    [
      'dated in the future beyond the clock skew',
      { time: '2025-07-05T12:11:31Z' },
      'future-dated event: 61 s ahead of the clock, more than the 60 s skew allowed',
    ],
    ['dated two days ahead', { time: '2025-07-07T12:10:30Z' }, 'future-dated event: 172800 s ahead of the clock, more than the 60 s skew allowed'],
    [
      'about a service of another cluster',
      { resources: [`arn:aws:ecs:eu-west-2:${ACCOUNT}:service/other-cluster/order-gateway`] },
      "service order-gateway of cluster other-cluster, not the fleet's trading-prod",
    ],
    ['about a service not in the fleet', { resources: [otherService] }, 'ECS service someone-elses-service is not a service of the fleet'],
    ['naming no service', { resources: [] }, 'the event names no ECS service (resources: none)'],
  ])('refuses a COMPLETED event %s while a deploy waits: recorded, nothing delivered', async (_label, overrides, why) => {
    await tokenStored();

    await expect(handleDeploymentEvent.core({ ...completed, ...overrides }, deps)).resolves.toEqual({ deploymentId: DEPLOYMENT_ID, action: 'refused', why });

    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).not.toHaveProperty('outcome');
    expect(auditRecords(ddb)).toEqual([expect.objectContaining({ action: 'deploy.event-refused', subject: 'fleet', reason: why, status: 'failed' })]);
  });

  it('accepts an event dated within the clock skew ahead', async () => {
    await tokenStored();

    await expect(handleDeploymentEvent.core({ ...completed, time: '2025-07-05T12:11:30Z' }, deps)).resolves.toMatchObject({ action: 'delivered' });
  });
});
