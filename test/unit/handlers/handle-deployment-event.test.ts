import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awaitDeploymentOutcome } from '../../../functions/await-deployment-outcome/core';
import { handleDeploymentEvent } from '../../../functions/handle-deployment-event/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { buildDeployment, buildPlan, buildService, deploymentEvent, FakeCallbackTable, NEW_REVISION_ARN, stubDescribeServices } from './builders';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAbbb-wait-for-deployment';
const DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
const STARTED_AT = '2025-07-05T12:01:30.000Z';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let ecs: AwsClientStub<ECSClient>;
let table: FakeCallbackTable;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  ecs = mockClient(deps.clients.ecs);
  table = new FakeCallbackTable(ddb);
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
  it('only records the outcome for a wait that starts later', async () => {
    await expect(handle('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: DEPLOYMENT_ID })).resolves.toEqual({ deploymentId: DEPLOYMENT_ID, action: 'recorded' });

    expect(table.item(`deployment#${DEPLOYMENT_ID}`)?.outcome).toMatchObject({ status: 'COMPLETED' });
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
