import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type DeployPlan, deployPlan } from '../../../functions/shared/domain/deploy-plan';
import { InvalidInputError, ServiceStateError } from '../../../functions/shared/runtime/errors';
import { startDeployment } from '../../../functions/start-deployment/core';
import type { DeployStrategy } from '../../../lib/fleet/fleet-schema';
import { EXECUTION_ID, exampleFleet, type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
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
  return startDeployment.core(
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

describe('start-deployment: rolling', () => {
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

/** order-gateway's plan from the example fleet with its strategy changed (the fleet names its traffic shift). */
function progressivePlan(strategy: DeployStrategy, releaseId?: string): DeployPlan {
  const fleet = exampleFleet();
  const service = fleet.services['order-gateway'];
  if (!service?.trafficShift) throw new Error('the example fleet has no order-gateway with a traffic shift');
  return deployPlan(
    fleet,
    { ...service, strategy },
    { image: `${service.imageRepository}:2.4.0`, requestedBy: 'alice@example.com', reason: 'release 2.4.0', releaseId },
  );
}

const SHIFT = exampleFleet().services['order-gateway']?.trafficShift;

/** What every progressive UpdateService sends besides the strategy: the load balancer and Assure's hook. */
function expectedProgressiveInput(deploymentConfiguration: Record<string, unknown>, hookDetails: Record<string, unknown>) {
  return {
    cluster: 'trading-prod',
    service: 'order-gateway',
    taskDefinition: NEW_REVISION_ARN,
    forceNewDeployment: false,
    healthCheckGracePeriodSeconds: 30,
    loadBalancers: [
      {
        targetGroupArn: SHIFT?.targetGroupArn,
        containerName: 'order-gateway',
        containerPort: 8080,
        advancedConfiguration: {
          alternateTargetGroupArn: SHIFT?.alternateTargetGroupArn,
          productionListenerRule: SHIFT?.productionListenerRuleArn,
          testListenerRule: SHIFT?.testListenerRuleArn,
          // The fleet file names the role; the ARN is in Assure's account.
          roleArn: 'arn:aws:iam::111122223333:role/ecs-infrastructure-load-balancers',
        },
      },
    ],
    deploymentConfiguration: {
      ...deploymentConfiguration,
      lifecycleHooks: [
        {
          hookTargetArn: testConfig.deploymentHookFunctionArn,
          roleArn: testConfig.deploymentHookRoleArn,
          lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'],
          hookDetails,
        },
      ],
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: { alarmNames: ['prod-order-gateway-error-rate', 'prod-order-gateway-latency-p99'], enable: true, rollback: true },
    },
  };
}

const HOOK_DETAILS = { service: 'order-gateway', deployExecutionId: EXECUTION_ID, requestedBy: 'alice@example.com' };

describe('start-deployment: blue/green, canary and linear', () => {
  it('sends a canary with its percentage and bake time, the load balancer and the hook', async () => {
    await start({ plan: progressivePlan({ type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 }) });

    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual(
      expectedProgressiveInput(
        { strategy: 'CANARY', bakeTimeInMinutes: 10, canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 } },
        HOOK_DETAILS,
      ),
    );
  });

  it('sends a linear deployment with its step and step bake time', async () => {
    await start({ plan: progressivePlan({ type: 'linear', stepPercent: 25, stepBakeTimeMinutes: 6 }) });

    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual(
      expectedProgressiveInput({ strategy: 'LINEAR', bakeTimeInMinutes: 6, linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 6 } }, HOOK_DETAILS),
    );
  });

  it('sends a blue/green deployment with its bake time', async () => {
    await start({ plan: progressivePlan({ type: 'blue-green', bakeTimeMinutes: 15 }) });

    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual(
      expectedProgressiveInput({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 15 }, HOOK_DETAILS),
    );
  });

  it('passes only the traffic-shift role and the hook role, both in the config account', async () => {
    await start({ plan: progressivePlan({ type: 'blue-green', bakeTimeMinutes: 0 }) });

    const input = ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    const passed = [
      ...(input?.loadBalancers ?? []).map((lb) => lb.advancedConfiguration?.roleArn),
      ...(input?.deploymentConfiguration?.lifecycleHooks ?? []).map((h) => h.roleArn),
    ];
    expect(passed).toEqual([
      'arn:aws:iam::111122223333:role/ecs-infrastructure-load-balancers',
      'arn:aws:iam::111122223333:role/assure-prod-deployment-hook-invoke',
    ]);
    expect(input?.deploymentConfiguration?.lifecycleHooks?.[0]?.hookTargetArn).toBe(
      'arn:aws:lambda:eu-west-2:111122223333:function:assure-prod-deploy-judge-deployment-hook',
    );
  });

  it('gives the hook the release the deploy belongs to', async () => {
    await start({
      plan: progressivePlan({ type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 }, 'push-order-gateway-0123456789abcdef0123456789abcdef01234567'),
    });

    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input.deploymentConfiguration?.lifecycleHooks?.[0]?.hookDetails).toEqual({
      ...HOOK_DETAILS,
      releaseId: 'push-order-gateway-0123456789abcdef0123456789abcdef01234567',
    });
  });

  it('records the strategy and the release in the audit trail', async () => {
    await start({ plan: progressivePlan({ type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 }, 'release-42') });

    expect(auditRecords(ddb)[1]).toMatchObject({
      releaseId: 'release-42',
      status: 'succeeded',
      after: { deploymentId: NEW_DEPLOYMENT_ID, taskDefinitionArn: NEW_REVISION_ARN, strategy: 'canary' },
    });
  });

  it('does not start a second deployment when a retried step finds its own', async () => {
    stubDescribeServices(
      ecs,
      buildService([
        buildDeployment({ id: NEW_DEPLOYMENT_ID, taskDefinition: NEW_REVISION_ARN, rolloutState: 'IN_PROGRESS', createdAt: NEW_DEPLOYMENT_CREATED }),
        buildDeployment({ status: 'ACTIVE' }),
      ]),
    );

    await expect(start({ plan: progressivePlan({ type: 'blue-green', bakeTimeMinutes: 10 }) })).resolves.toMatchObject({ deploymentId: NEW_DEPLOYMENT_ID });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('refuses a progressive plan without a traffic shift rather than rolling', async () => {
    await expect(start({ plan: buildPlan({ strategy: { type: 'blue-green', bakeTimeMinutes: 10 } }) })).rejects.toThrow(
      new InvalidInputError('order-gateway uses the blue-green strategy but its plan has no trafficShift'),
    );
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });
});
