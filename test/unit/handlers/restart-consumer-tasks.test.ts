import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { restartConsumerTasks } from '../../../functions/restart-consumer-tasks/core';
import type { RotationPlan } from '../../../functions/shared/domain/rotation-plan';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import { ACCOUNT, buildDeployment, buildPlan, buildService, PREVIOUS_REVISION_ARN, stubDescribeServices } from './builders';

const EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-rotate-secret:rotate-1';
const NOT_BEFORE = '2025-07-05T12:00:00.000Z';
const RESTART_ID = 'ecs-svc/4444444444444444444';
const PLAN: RotationPlan = {
  secret: 'order-signing-key',
  secretName: 'prod/trading/order-signing-key',
  secretArn: 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:prod/trading/order-signing-key-AbCdEf',
  variable: 'ORDER_SIGNING_KEY',
  requestedBy: 'alice',
  reason: 'quarterly',
  source: 'cli',
  previousVersionId: 'v-previous-0000000000000000000000000001',
  rotatedVersionId: null,
};

let deps: TestDeps;
let ecs: AwsClientStub<ECSClient>;

beforeEach(() => {
  deps = testDeps();
  mockClient(deps.clients.dynamodb).on(PutItemCommand).resolves({});
  ecs = mockClient(deps.clients.ecs);
  // The service as it runs: one settled deployment from before this rotation.
  stubDescribeServices(ecs, buildService([buildDeployment()]));
  ecs.on(UpdateServiceCommand).resolves({
    service: buildService([
      buildDeployment({ id: RESTART_ID, rolloutState: 'IN_PROGRESS', createdAt: new Date('2025-07-05T12:00:05.000Z') }),
      buildDeployment({ status: 'ACTIVE' }),
    ]),
  });
});

const restart = (consumer = buildPlan()) =>
  restartConsumerTasks.core({ executionId: EXECUTION_ID, plan: PLAN, consumer, notBefore: NOT_BEFORE, phase: 'rotation' }, deps);

describe('restart-consumer-tasks', () => {
  it('replaces a rolling consumer’s tasks on the revision it runs, with no load balancer or strategy', async () => {
    await expect(restart()).resolves.toEqual({
      service: 'order-gateway',
      skipped: false,
      deploymentId: RESTART_ID,
      startedAt: '2025-07-05T12:00:05.000Z',
      taskDefinitionArn: PREVIOUS_REVISION_ARN,
    });
    const input = ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ taskDefinition: PREVIOUS_REVISION_ARN, forceNewDeployment: true });
    expect(input?.loadBalancers).toBeUndefined();
    expect(input?.deploymentConfiguration?.strategy).toBeUndefined();
  });

  it('restarts a canary consumer with its strategy and load balancer, so ECS accepts it before any deploy, and no hook', async () => {
    const trafficShift = deps.fleet.services['order-gateway']?.trafficShift;
    if (!trafficShift) throw new Error('the example fleet has no order-gateway traffic shift');
    await restart(buildPlan({ strategy: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 }, trafficShift }));

    const input = ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ taskDefinition: PREVIOUS_REVISION_ARN, forceNewDeployment: true });
    expect(input?.loadBalancers).toEqual([
      {
        targetGroupArn: trafficShift.targetGroupArn,
        containerName: 'order-gateway',
        containerPort: trafficShift.containerPort,
        advancedConfiguration: {
          alternateTargetGroupArn: trafficShift.alternateTargetGroupArn,
          productionListenerRule: trafficShift.productionListenerRuleArn,
          testListenerRule: trafficShift.testListenerRuleArn,
          roleArn: `arn:aws:iam::${ACCOUNT}:role/${trafficShift.roleName}`,
        },
      },
    ]);
    expect(input?.deploymentConfiguration).toMatchObject({
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 },
      // Nothing judges a restart of the revision the consumer already runs.
      lifecycleHooks: [],
    });
  });
});
