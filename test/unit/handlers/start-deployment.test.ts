import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeployPlan } from '../../../functions/shared/domain/deploy-plan';
import { ServiceStateError } from '../../../functions/shared/runtime/errors';
import { startRollingDeployment } from '../../../functions/start-rolling-deployment/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import {
  auditRecords,
  auditTrail,
  buildBaseline,
  buildDeployment,
  buildPlan,
  buildService,
  NEW_REVISION_ARN,
  PREVIOUS_REVISION_ARN,
  stubDescribeServices,
} from './builders';

const EXECUTION_START = '2025-07-05T12:00:00.000Z';
const NEW_DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
const NEW_DEPLOYMENT_CREATED = new Date('2025-07-05T12:01:30.000Z');

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ecs = mockClient(deps.clients.ecs);
  ddb.on(PutItemCommand).resolves({});
  // The service at rest on the previous revision, as Check deploy guards saw it.
  stubDescribeServices(ecs, buildService([buildDeployment()]));
  stubUpdateServiceStarts(NEW_REVISION_ARN);
});

/** UpdateService answers with a new PRIMARY deployment of `taskDefinition`. */
function stubUpdateServiceStarts(taskDefinition: string): void {
  ecs.on(UpdateServiceCommand).resolves({
    service: buildService([
      buildDeployment({ id: NEW_DEPLOYMENT_ID, taskDefinition, rolloutState: 'IN_PROGRESS', createdAt: NEW_DEPLOYMENT_CREATED, runningCount: 0 }),
      buildDeployment({ status: 'ACTIVE' }),
    ]),
  });
}

function start(options: { plan?: DeployPlan; revisionArn?: string } = {}) {
  const revisionArn = options.revisionArn ?? NEW_REVISION_ARN;
  return startRollingDeployment.core(
    {
      executionId: EXECUTION_ID,
      executionStartTime: EXECUTION_START,
      plan: options.plan ?? buildPlan(),
      baseline: buildBaseline(),
      revision: { taskDefinitionArn: revisionArn, revision: Number(revisionArn.split(':').pop()), reused: revisionArn === PREVIOUS_REVISION_ARN },
    },
    deps,
  );
}

describe('start-rolling-deployment', () => {
  it('updates the service to the new revision with the circuit breaker and the rollback alarms as deployment alarms', async () => {
    const plan = buildPlan({ rolling: { maximumPercent: 150, minimumHealthyPercent: 50, healthCheckGracePeriodSeconds: 45 } });

    await start({ plan });

    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'trading-prod',
      service: 'order-gateway',
      taskDefinition: NEW_REVISION_ARN,
      forceNewDeployment: false,
      healthCheckGracePeriodSeconds: 45,
      deploymentConfiguration: {
        maximumPercent: 150,
        minimumHealthyPercent: 50,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        alarms: { alarmNames: ['prod-order-gateway-error-rate', 'prod-order-gateway-latency-p99'], enable: true, rollback: true },
      },
    });
  });

  it('returns the new PRIMARY deployment as the rollout', async () => {
    await expect(start()).resolves.toEqual({
      deploymentId: NEW_DEPLOYMENT_ID,
      startedAt: NEW_DEPLOYMENT_CREATED.toISOString(),
      taskDefinitionArn: NEW_REVISION_ARN,
    });
  });

  it('turns deployment alarms off when the service has no rollback alarms', async () => {
    await start({ plan: buildPlan({ rollbackAlarmNames: [] }) });

    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      deploymentConfiguration: expect.objectContaining({
        deploymentCircuitBreaker: { enable: true, rollback: true },
        alarms: { alarmNames: [], enable: false, rollback: false },
      }),
    });
  });

  it('forces a new deployment when the revision is the one already running', async () => {
    stubUpdateServiceStarts(PREVIOUS_REVISION_ARN);

    await start({ revisionArn: PREVIOUS_REVISION_ARN });

    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { taskDefinition: PREVIOUS_REVISION_ARN, forceNewDeployment: true });
  });

  it('does not start a second deployment when a retried step finds its own', async () => {
    stubDescribeServices(
      ecs,
      buildService([
        buildDeployment({ id: NEW_DEPLOYMENT_ID, taskDefinition: NEW_REVISION_ARN, rolloutState: 'IN_PROGRESS', createdAt: NEW_DEPLOYMENT_CREATED }),
        buildDeployment({ status: 'ACTIVE' }),
      ]),
    );

    await expect(start()).resolves.toEqual({
      deploymentId: NEW_DEPLOYMENT_ID,
      startedAt: NEW_DEPLOYMENT_CREATED.toISOString(),
      taskDefinitionArn: NEW_REVISION_ARN,
    });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: ['order-gateway'] });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('starts a deployment when the PRIMARY on the revision was created before this execution started', async () => {
    stubDescribeServices(
      ecs,
      buildService([buildDeployment({ id: 'ecs-svc/0000000000000000001', taskDefinition: NEW_REVISION_ARN, createdAt: new Date('2025-07-05T11:59:59.000Z') })]),
    );

    await start();

    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('does not force a second restart when a retried step finds the forced deployment it started', async () => {
    // The image was already running, so the first attempt forced a new deployment of the same revision,
    // then the step was retried (e.g. the Lambda timed out after UpdateService returned).
    stubDescribeServices(
      ecs,
      buildService([
        buildDeployment({ id: NEW_DEPLOYMENT_ID, taskDefinition: PREVIOUS_REVISION_ARN, rolloutState: 'IN_PROGRESS', createdAt: NEW_DEPLOYMENT_CREATED }),
        buildDeployment({ status: 'ACTIVE' }),
      ]),
    );

    await expect(start({ revisionArn: PREVIOUS_REVISION_ARN })).resolves.toMatchObject({ deploymentId: NEW_DEPLOYMENT_ID });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('fails with ServiceStateError when UpdateService reports no PRIMARY deployment', async () => {
    ecs.on(UpdateServiceCommand).resolves({ service: buildService([]) });

    await expect(start()).rejects.toThrow(new ServiceStateError('UpdateService on order-gateway returned no primary deployment'));
  });

  it('writes intent and outcome records with the revision before and the rollout after', async () => {
    await start();

    expect(auditTrail(ddb)).toEqual(['deploy.update-service intent started', 'deploy.update-service outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      before: { taskDefinitionArn: PREVIOUS_REVISION_ARN },
      after: { deploymentId: NEW_DEPLOYMENT_ID, taskDefinitionArn: NEW_REVISION_ARN },
    });
  });

  it('records a refused UpdateService and re-throws it unchanged', async () => {
    const invalid = Object.assign(new Error('TaskDefinition is inactive'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    ecs.on(UpdateServiceCommand).rejects(invalid);

    await expect(start()).rejects.toBe(invalid);
    expect(auditRecords(ddb)[1]).toMatchObject({ status: 'failed', error: { name: 'InvalidParameterException', message: 'TaskDefinition is inactive' } });
  });
});
