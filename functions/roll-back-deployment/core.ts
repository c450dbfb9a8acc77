/**
 * Returns the service to its last COMPLETED revision after a failed deploy. When
 * ECS already did (circuit breaker, deployment-alarm or lifecycle-hook rollback)
 * it confirms that instead of starting another deployment. A blue/green, canary
 * or linear deployment still in flight is stopped with ROLLBACK (ECS shifts
 * traffic back to the revision still running beside it); otherwise the previous
 * revision is deployed again with the service's strategy. Reports the deployment
 * to wait for.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, deployPlanSchema, executionIdSchema, failureSchema, rolloutSchema, serviceBaselineSchema } from '../shared/domain/deploy-plan';
import { ServiceStateError } from '../shared/runtime/errors';
import { describeFailure } from '../shared/runtime/failure';
import { defineHandler } from '../shared/runtime/handler';
import { isProgressive, restartWithLoadBalancer } from '../shared/domain/deployment-strategy';
import { rollBackInFlightDeployment, startRollout } from '../shared/domain/service-deployments';

export type RollbackAction = 'none' | 'confirmed-ecs-rollback' | 'stopped-in-flight-deployment' | 'redeployed-previous';

export interface RollbackResult {
  readonly action: RollbackAction;
  readonly why: string;
  /** The deployment that returns the service to `taskDefinitionArn` (null when action is none). */
  readonly deploymentId: string | null;
  readonly taskDefinitionArn: string;
  readonly startedAt: string;
}

export const rollBackDeployment = defineHandler({
  name: 'roll-back-deployment',
  description: "Returns the service to its last COMPLETED revision: confirms ECS's own rollback, stops a progressive deployment with ROLLBACK, or redeploys",
  clients: ['dynamodb', 'ecs'],
  input: z.object({
    executionId: executionIdSchema,
    plan: deployPlanSchema,
    baseline: serviceBaselineSchema,
    rollout: rolloutSchema.nullable(),
    failure: failureSchema,
  }),
  core: async ({ executionId, plan, baseline, rollout, failure }, deps): Promise<RollbackResult> =>
    audited(
      deps,
      deployAuditAction('deploy.roll-back', plan, executionId, {
        actor: 'assure',
        reason: describeFailure(failure).slice(0, 1000),
        before: rollout ? { deploymentId: rollout.deploymentId } : {},
      }),
      async () => {
        const target = baseline.previousTaskDefinitionArn;
        // Decide from what ECS runs, not from what the state says was done: a step can fail after its call succeeded.
        const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
        const deployments = described.services?.[0]?.deployments ?? [];
        const primary = deployments.find((d) => d.status === 'PRIMARY');
        if (!primary?.id) throw new ServiceStateError(`${plan.ecsServiceName} has no primary deployment`);
        if (primary.taskDefinition === target) {
          const untouched = !rollout && primary.id === baseline.deploymentId && deployments.length === 1 && primary.rolloutState === 'COMPLETED';
          if (untouched) {
            return {
              action: 'none',
              why: 'the service was not changed before the failure',
              deploymentId: null,
              taskDefinitionArn: target,
              startedAt: new Date().toISOString(),
            };
          }
          return {
            action: 'confirmed-ecs-rollback',
            why: `ECS is returning the service to ${target.split('/').pop() ?? target} (${primary.rolloutStateReason || primary.id})`,
            deploymentId: primary.id,
            taskDefinitionArn: target,
            // ECS re-promotes the earlier deployment (same id): its rollback began at its last update, not its creation.
            startedAt: (primary.updatedAt ?? new Date()).toISOString(),
          };
        }
        if (isProgressive(plan.strategy)) {
          const stopped = await rollBackInFlightDeployment(deps, plan.cluster, plan.ecsServiceName);
          if (stopped) {
            const after = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
            const returning = after.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY');
            if (!returning?.id) throw new ServiceStateError(`${plan.ecsServiceName} has no primary deployment after stopping ${stopped}`);
            return {
              action: 'stopped-in-flight-deployment',
              why: `${failure.Error}: stopped ${stopped} with ROLLBACK; ECS shifts traffic back to ${target.split('/').pop() ?? target}`,
              deploymentId: returning.id,
              taskDefinitionArn: target,
              startedAt: (returning.updatedAt ?? new Date()).toISOString(),
            };
          }
        }
        const rollback = await startRollout(deps, plan, target, restartWithLoadBalancer(plan, deps.config));
        return {
          action: 'redeployed-previous',
          why: `${failure.Error}: redeploying ${target.split('/').pop() ?? target}`,
          deploymentId: rollback.deploymentId,
          taskDefinitionArn: target,
          startedAt: rollback.startedAt,
        };
      },
      (result) => ({ action: result.action, deploymentId: result.deploymentId, taskDefinitionArn: result.taskDefinitionArn }),
    ),
});
