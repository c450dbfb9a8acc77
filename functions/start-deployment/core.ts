/**
 * Points the service at the new revision with its strategy: a rolling deployment
 * with the circuit breaker (rollback on) and the service's rollback alarms as
 * deployment alarms; or ECS's blue/green, canary or linear deployment with the
 * same alarms, the load balancer's advanced configuration, the fleet file's bake
 * times and Assure's lifecycle hook (which judges the new revision and may hold
 * it for a release approval). A retried step finds its own deployment and does
 * not start another.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, deployPlanSchema, executionIdSchema, revisionSchema, serviceBaselineSchema } from '../shared/domain/deploy-plan';
import { progressiveRelease } from '../shared/domain/deployment-strategy';
import { defineHandler } from '../shared/runtime/handler';
import { startRollout } from '../shared/domain/service-deployments';

export const startDeployment = defineHandler({
  name: 'start-deployment',
  description:
    "Starts the ECS deployment of the new revision with the service's strategy, deployment alarms and, for blue/green, canary and linear, Assure's lifecycle hook",
  clients: ['dynamodb', 'ecs'],
  input: z.object({
    executionId: executionIdSchema,
    executionStartTime: z.string(),
    plan: deployPlanSchema,
    baseline: serviceBaselineSchema,
    revision: revisionSchema,
  }),
  core: async ({ executionId, executionStartTime, plan, baseline, revision }, deps) =>
    audited(
      deps,
      deployAuditAction('deploy.update-service', plan, executionId, { before: { taskDefinitionArn: baseline.previousTaskDefinitionArn } }),
      async () => {
        const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
        const existing = described.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY');
        if (
          existing?.id &&
          existing.taskDefinition === revision.taskDefinitionArn &&
          existing.createdAt &&
          // Created during this execution: ours (the service's earlier deployment predates it).
          existing.createdAt.getTime() >= Date.parse(executionStartTime)
        ) {
          return { deploymentId: existing.id, startedAt: existing.createdAt.toISOString(), taskDefinitionArn: revision.taskDefinitionArn };
        }

        const release = progressiveRelease(plan, deps.config, {
          service: plan.service,
          deployExecutionId: executionId,
          requestedBy: plan.requestedBy,
          ...(plan.releaseId ? { releaseId: plan.releaseId } : {}),
        });
        const rollout = await startRollout(deps, plan, revision.taskDefinitionArn, {
          // Same image as running: restart the tasks rather than do nothing.
          forceNewDeployment: revision.taskDefinitionArn === baseline.previousTaskDefinitionArn,
          healthCheckGracePeriodSeconds: plan.rolling.healthCheckGracePeriodSeconds,
          ...(release ? { release } : {}),
        });
        return {
          ...rollout,
          taskDefinitionArn: revision.taskDefinitionArn,
        };
      },
      (rollout) => ({ ...rollout, strategy: plan.strategy.type }),
    ),
});
