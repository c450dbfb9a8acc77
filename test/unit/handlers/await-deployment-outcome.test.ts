import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awaitDeploymentOutcome } from '../../../functions/await-deployment-outcome/core';
import { handleDeploymentEvent } from '../../../functions/handle-deployment-event/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { buildDeployment, buildPlan, buildService, deploymentEvent, FakeCallbackTable, NEW_REVISION_ARN, stubDescribeServices } from './builders';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAaaa-wait-for-deployment';
const DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
const STARTED_AT = '2025-07-05T12:01:30.000Z';
const NOW = new Date('2025-07-05T12:05:00.000Z');

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
  // ECS still rolling out the new deployment.
  stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'IN_PROGRESS' }), buildDeployment({ status: 'ACTIVE' })]));
});

afterEach(() => {
  vi.useRealTimers();
});

function rollout(overrides: Parameters<typeof buildDeployment>[0] = {}) {
  return buildDeployment({
    id: DEPLOYMENT_ID,
    taskDefinition: NEW_REVISION_ARN,
    createdAt: new Date(STARTED_AT),
    updatedAt: new Date(STARTED_AT),
    ...overrides,
  });
}

const awaitOutcome = (notBefore = STARTED_AT) =>
  awaitDeploymentOutcome.core({ executionId: EXECUTION_ID, taskToken: TOKEN, plan: buildPlan(), deploymentId: DEPLOYMENT_ID, notBefore }, deps);

describe('await-deployment-outcome: the token is stored first', () => {
  it('stores the token, the wait and its notBefore on the deployment item, then waits', async () => {
    await expect(awaitOutcome()).resolves.toEqual({ waiting: true, deploymentId: DEPLOYMENT_ID });

    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).toEqual({
      pk: `deployment#${DEPLOYMENT_ID}`,
      taskToken: TOKEN,
      service: 'order-gateway',
      executionId: EXECUTION_ID,
      notBefore: STARTED_AT,
      expiresAt: NOW.getTime() / 1000 + 7 * 24 * 3600,
    });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('asks ECS when no outcome has arrived yet', async () => {
    await awaitOutcome();

    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: ['order-gateway'] });
  });

  it('completes the wait at once when ECS already reports the rollout COMPLETED', async () => {
    stubDescribeServices(
      ecs,
      buildService([rollout({ rolloutState: 'COMPLETED', rolloutStateReason: 'done', updatedAt: new Date('2025-07-05T12:04:00.000Z') })]),
    );

    await expect(awaitOutcome()).resolves.toEqual({ waiting: false, deploymentId: DEPLOYMENT_ID, delivery: 'delivered' });

    const outcome = { deploymentId: DEPLOYMENT_ID, status: 'COMPLETED', reason: 'done', at: '2025-07-05T12:04:00.000Z' };
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN, output: JSON.stringify(outcome) });
    expect(table.item(`deployment#${DEPLOYMENT_ID}`)?.outcome).toEqual(outcome);
  });

  it('fails the wait at once when ECS already reports the rollout FAILED', async () => {
    stubDescribeServices(
      ecs,
      buildService([rollout({ rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker triggered', updatedAt: new Date('2025-07-05T12:04:00.000Z') })]),
    );

    await awaitOutcome();

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'DeploymentFailedError',
      cause: `Deployment ${DEPLOYMENT_ID} failed: circuit breaker triggered`,
    });
  });

  it('fails the wait when ECS no longer lists the deployment, naming the primary deployment', async () => {
    stubDescribeServices(ecs, buildService([buildDeployment({ id: 'ecs-svc/1111111111111111111' })]));

    await awaitOutcome();

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'DeploymentFailedError',
      cause: `Deployment ${DEPLOYMENT_ID} failed: deployment is no longer listed; the service's primary deployment is ecs-svc/1111111111111111111`,
    });
  });

  it('compares the ECS outcome time with notBefore as times, not as strings', async () => {
    // Half a second after notBefore; notBefore written without milliseconds (still valid ISO 8601, and the schema accepts it).
    stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'COMPLETED', updatedAt: new Date('2025-07-05T12:01:30.500Z') })]));

    await expect(awaitOutcome('2025-07-05T12:01:30Z')).resolves.toMatchObject({ waiting: false, delivery: 'delivered' });
  });

  it('keeps waiting when the COMPLETED state ECS reports predates the wait (a re-promoted deployment)', async () => {
    stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'COMPLETED', updatedAt: new Date('2025-07-05T12:00:00.000Z') })]));

    await expect(awaitOutcome()).resolves.toEqual({ waiting: true, deploymentId: DEPLOYMENT_ID });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});

describe('await-deployment-outcome: the event arrives first', () => {
  // The event handler stores nothing for a deployment nobody awaits yet (a forged event must change nothing): the wait learns it from ECS.
  const completedAt = '2025-07-05T12:04:00.000Z';
  const eventFirst = async (eventName: 'SERVICE_DEPLOYMENT_COMPLETED' | 'SERVICE_DEPLOYMENT_FAILED') => {
    const event = { ...deploymentEvent(eventName, { deploymentId: DEPLOYMENT_ID, updatedAt: completedAt }), time: completedAt };
    await expect(handleDeploymentEvent.core(event, deps)).resolves.toMatchObject({ action: 'not-awaited' });
    expect(table.item(`deployment#${DEPLOYMENT_ID}`)).toBeUndefined();
  };

  it('delivers the COMPLETED outcome ECS reports, the early event having changed nothing', async () => {
    await eventFirst('SERVICE_DEPLOYMENT_COMPLETED');
    stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'COMPLETED', rolloutStateReason: 'done', updatedAt: new Date(completedAt) })]));

    await expect(awaitOutcome()).resolves.toEqual({ waiting: false, deploymentId: DEPLOYMENT_ID, delivery: 'delivered' });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ deploymentId: DEPLOYMENT_ID, status: 'COMPLETED', reason: 'done', at: completedAt }),
    });
  });

  it('delivers the FAILED outcome ECS reports', async () => {
    await eventFirst('SERVICE_DEPLOYMENT_FAILED');
    stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker', updatedAt: new Date(completedAt) })]));

    await awaitOutcome();

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'DeploymentFailedError',
      cause: `Deployment ${DEPLOYMENT_ID} failed: circuit breaker`,
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('tolerates a task that already closed (the event handler delivered too)', async () => {
    stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'COMPLETED', updatedAt: new Date(completedAt) })]));
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    await expect(awaitOutcome()).resolves.toEqual({ waiting: false, deploymentId: DEPLOYMENT_ID, delivery: 'task-already-closed' });
  });

  it('re-throws other SendTask errors', async () => {
    stubDescribeServices(ecs, buildService([rollout({ rolloutState: 'COMPLETED', updatedAt: new Date(completedAt) })]));
    const invalid = Object.assign(new Error('Invalid Token'), { name: 'InvalidToken', $metadata: { httpStatusCode: 400 } });
    sfn.on(SendTaskSuccessCommand).rejects(invalid);

    await expect(awaitOutcome()).rejects.toBe(invalid);
  });
});
