import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeServicesCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rollBackDeployment } from '../../../functions/roll-back-deployment/core';
import { ServiceStateError } from '../../../functions/shared/runtime/errors';
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

const NOW = new Date('2025-07-05T12:15:00.000Z');
const ROLLOUT = { deploymentId: 'ecs-svc/2222222222222222222', startedAt: '2025-07-05T12:01:30.000Z' };
const ORIGINAL_DEPLOYMENT_ID = 'ecs-svc/1111111111111111111';
const ROLLBACK_DEPLOYMENT_ID = 'ecs-svc/3333333333333333333';
const GATE_FAILURE = {
  Error: 'HealthGateFailedError',
  Cause: JSON.stringify({
    errorType: 'HealthGateFailedError',
    errorMessage: 'order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate',
    trace: ['HealthGateFailedError: order-gateway is UNHEALTHY', '    at file:///var/task/index.mjs:1:2'],
  }),
};

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ecs = mockClient(deps.clients.ecs);
  ddb.on(PutItemCommand).resolves({});
  ecs.on(UpdateServiceCommand).resolves({
    service: buildService([
      buildDeployment({ id: ROLLBACK_DEPLOYMENT_ID, rolloutState: 'IN_PROGRESS', createdAt: new Date('2025-07-05T12:15:01.000Z') }),
      buildDeployment({ id: ROLLOUT.deploymentId, status: 'ACTIVE', taskDefinition: NEW_REVISION_ARN }),
    ]),
  });
});

afterEach(() => {
  vi.useRealTimers();
});

const rollBack = (rollout: typeof ROLLOUT | null = ROLLOUT, failure: { Error: string; Cause?: string } = GATE_FAILURE, plan = buildPlan()) =>
  rollBackDeployment.core({ executionId: EXECUTION_ID, plan, baseline: buildBaseline(), rollout, failure }, deps);

/** The new rollout still PRIMARY: ECS has not rolled anything back. */
const newRolloutPrimary = () =>
  stubDescribeServices(
    ecs,
    buildService([
      buildDeployment({ id: ROLLOUT.deploymentId, taskDefinition: NEW_REVISION_ARN, rolloutState: 'COMPLETED', createdAt: new Date(ROLLOUT.startedAt) }),
    ]),
  );

describe('roll-back-deployment', () => {
  it('does nothing when the failure came before the service was changed', async () => {
    // ECS still runs the baseline deployment, untouched.
    stubDescribeServices(ecs, buildService([buildDeployment({ id: ORIGINAL_DEPLOYMENT_ID, taskDefinition: PREVIOUS_REVISION_ARN })]));

    await expect(rollBack(null)).resolves.toEqual({
      action: 'none',
      why: 'the service was not changed before the failure',
      deploymentId: null,
      taskDefinitionArn: PREVIOUS_REVISION_ARN,
      startedAt: NOW.toISOString(),
    });

    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('rolls back by what ECS runs when the rollout step failed after its UpdateService succeeded', async () => {
    // The state has no rollout (the step failed), but ECS already runs the new revision.
    newRolloutPrimary();

    await expect(rollBack(null)).resolves.toMatchObject({ action: 'redeployed-previous', deploymentId: ROLLBACK_DEPLOYMENT_ID });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { taskDefinition: PREVIOUS_REVISION_ARN });
  });

  it("confirms ECS's own rollback instead of starting another, from when ECS re-promoted the deployment", async () => {
    const repromotedAt = new Date('2025-07-05T12:09:00.000Z');
    stubDescribeServices(
      ecs,
      buildService([
        buildDeployment({
          id: ORIGINAL_DEPLOYMENT_ID,
          taskDefinition: PREVIOUS_REVISION_ARN,
          rolloutState: 'IN_PROGRESS',
          rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111111111111111111.',
          createdAt: new Date('2025-06-30T09:00:00.000Z'),
          updatedAt: repromotedAt,
        }),
        buildDeployment({ id: ROLLOUT.deploymentId, status: 'ACTIVE', taskDefinition: NEW_REVISION_ARN, rolloutState: 'FAILED' }),
      ]),
    );

    await expect(rollBack()).resolves.toEqual({
      action: 'confirmed-ecs-rollback',
      why: 'ECS is returning the service to order-gateway:41 (ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111111111111111111.)',
      deploymentId: ORIGINAL_DEPLOYMENT_ID,
      taskDefinitionArn: PREVIOUS_REVISION_ARN,
      startedAt: repromotedAt.toISOString(),
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('redeploys the previous revision when ECS has not rolled back', async () => {
    newRolloutPrimary();

    await expect(rollBack()).resolves.toEqual({
      action: 'redeployed-previous',
      why: 'HealthGateFailedError: redeploying order-gateway:41',
      deploymentId: ROLLBACK_DEPLOYMENT_ID,
      taskDefinitionArn: PREVIOUS_REVISION_ARN,
      startedAt: '2025-07-05T12:15:01.000Z',
    });
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'trading-prod',
      service: 'order-gateway',
      taskDefinition: PREVIOUS_REVISION_ARN,
      deploymentConfiguration: {
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        alarms: { alarmNames: ['prod-order-gateway-error-rate', 'prod-order-gateway-latency-p99'], enable: true, rollback: true },
      },
    });
  });

  it('waits for a failed restart of the previous revision rather than starting yet another deployment', async () => {
    stubDescribeServices(ecs, buildService([buildDeployment({ id: ROLLOUT.deploymentId, taskDefinition: PREVIOUS_REVISION_ARN, rolloutState: 'FAILED' })]));

    await expect(rollBack()).resolves.toMatchObject({ action: 'confirmed-ecs-rollback', deploymentId: ROLLOUT.deploymentId });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('fails with ServiceStateError when the service has no PRIMARY deployment', async () => {
    stubDescribeServices(ecs, buildService([]));

    await expect(rollBack()).rejects.toThrow(new ServiceStateError('order-gateway has no primary deployment'));
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('records the failure message, not the Lambda error payload, as the reason', async () => {
    newRolloutPrimary();

    await rollBack();

    expect(auditTrail(ddb)).toEqual(['deploy.roll-back intent started', 'deploy.roll-back outcome succeeded']);
    const [intent, outcome] = auditRecords(ddb);
    expect(intent).toMatchObject({
      actor: 'assure',
      reason: 'HealthGateFailedError: order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate',
      before: { deploymentId: ROLLOUT.deploymentId },
    });
    expect(outcome?.after).toEqual({ action: 'redeployed-previous', deploymentId: ROLLBACK_DEPLOYMENT_ID, taskDefinitionArn: PREVIOUS_REVISION_ARN });
  });

  it('records a failed UpdateService and re-throws it unchanged', async () => {
    newRolloutPrimary();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    ecs.on(UpdateServiceCommand).rejects(throttled);

    await expect(rollBack()).rejects.toBe(throttled);
    expect(auditTrail(ddb)).toEqual(['deploy.roll-back intent started', 'deploy.roll-back outcome failed']);
  });
});

describe('roll-back-deployment: blue/green, canary and linear', () => {
  const SERVICE_DEPLOYMENT_ARN = 'arn:aws:ecs:eu-west-2:111122223333:service-deployment/trading-prod/order-gateway/2222222222222222222';
  const shift = () => {
    const trafficShift = deps.fleet.services['order-gateway']?.trafficShift;
    if (!trafficShift) throw new Error('the example fleet has no order-gateway traffic shift');
    return trafficShift;
  };
  const canaryPlan = () =>
    buildPlan({ strategy: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 }, trafficShift: shift(), progressDeadlineSeconds: 2400 });
  const hookFailure = { Error: 'DeploymentFailedError', Cause: 'lifecycle hook failed at PRODUCTION_TRAFFIC_SHIFT' };

  it('stops a deployment still in flight with ROLLBACK and waits for the revision ECS returns to', async () => {
    const returnedAt = new Date('2025-07-05T12:15:00.500Z');
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [
          buildService([
            buildDeployment({
              id: ROLLOUT.deploymentId,
              taskDefinition: NEW_REVISION_ARN,
              rolloutState: 'IN_PROGRESS',
              createdAt: new Date(ROLLOUT.startedAt),
            }),
            buildDeployment({ id: ORIGINAL_DEPLOYMENT_ID, status: 'ACTIVE' }),
          ]),
        ],
      })
      .resolves({
        services: [
          buildService([
            buildDeployment({ id: ORIGINAL_DEPLOYMENT_ID, rolloutState: 'IN_PROGRESS', updatedAt: returnedAt }),
            buildDeployment({ id: ROLLOUT.deploymentId, status: 'ACTIVE', taskDefinition: NEW_REVISION_ARN }),
          ]),
        ],
      });
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [{ serviceDeploymentArn: SERVICE_DEPLOYMENT_ARN, status: 'IN_PROGRESS' }] });
    ecs.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: SERVICE_DEPLOYMENT_ARN });

    await expect(rollBack(ROLLOUT, hookFailure, canaryPlan())).resolves.toEqual({
      action: 'stopped-in-flight-deployment',
      why: `DeploymentFailedError: stopped ${SERVICE_DEPLOYMENT_ARN} with ROLLBACK; ECS shifts traffic back to order-gateway:41`,
      deploymentId: ORIGINAL_DEPLOYMENT_ID,
      taskDefinitionArn: PREVIOUS_REVISION_ARN,
      startedAt: returnedAt.toISOString(),
    });
    expect(ecs).toHaveReceivedCommandWith(ListServiceDeploymentsCommand, {
      cluster: 'trading-prod',
      service: 'order-gateway',
      status: ['PENDING', 'IN_PROGRESS'],
    });
    expect(ecs).toHaveReceivedCommandWith(StopServiceDeploymentCommand, { serviceDeploymentArn: SERVICE_DEPLOYMENT_ARN, stopType: 'ROLLBACK' });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('redeploys a settled service with the same strategy, bake times and load balancer, without the hook', async () => {
    newRolloutPrimary();
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });

    await expect(rollBack(ROLLOUT, GATE_FAILURE, canaryPlan())).resolves.toMatchObject({ action: 'redeployed-previous', deploymentId: ROLLBACK_DEPLOYMENT_ID });
    expect(ecs).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'trading-prod',
      service: 'order-gateway',
      taskDefinition: PREVIOUS_REVISION_ARN,
      // ECS refuses a canary without its load balancer's advanced configuration, so the rollback sends it again.
      loadBalancers: [
        {
          targetGroupArn: shift().targetGroupArn,
          containerName: 'order-gateway',
          containerPort: shift().containerPort,
          advancedConfiguration: {
            alternateTargetGroupArn: shift().alternateTargetGroupArn,
            productionListenerRule: shift().productionListenerRuleArn,
            testListenerRule: shift().testListenerRuleArn,
            roleArn: `arn:aws:iam::${deps.config.account}:role/${shift().roleName}`,
          },
        },
      ],
      deploymentConfiguration: {
        strategy: 'CANARY',
        bakeTimeInMinutes: 10,
        canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 },
        // Nothing judges the way back to the known-good revision.
        lifecycleHooks: [],
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        alarms: { alarmNames: ['prod-order-gateway-error-rate', 'prod-order-gateway-latency-p99'], enable: true, rollback: true },
      },
    });
  });

  it("confirms ECS's own rollback after a failed hook without stopping anything", async () => {
    stubDescribeServices(
      ecs,
      buildService([
        buildDeployment({ id: ORIGINAL_DEPLOYMENT_ID, rolloutState: 'COMPLETED', updatedAt: new Date('2025-07-05T12:10:00.000Z') }),
        buildDeployment({ id: ROLLOUT.deploymentId, status: 'ACTIVE', taskDefinition: NEW_REVISION_ARN, rolloutState: 'FAILED' }),
      ]),
    );

    await expect(rollBack(ROLLOUT, hookFailure, canaryPlan())).resolves.toMatchObject({
      action: 'confirmed-ecs-rollback',
      deploymentId: ORIGINAL_DEPLOYMENT_ID,
    });
    expect(ecs).not.toHaveReceivedCommand(ListServiceDeploymentsCommand);
    expect(ecs).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });
});
