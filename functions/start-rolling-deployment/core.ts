/**
 * Points the service at the new revision as a rolling deployment with the
 * circuit breaker (rollback on) and the service's rollback alarms as deployment
 * alarms. A retried step finds its own deployment and does not start another.
 */
import { DescribeServicesCommand, UpdateServiceCommand, type Deployment } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/audit';
import {
  deployAuditAction,
  deployPlanSchema,
  executionIdSchema,
  revisionSchema,
  rollingDeploymentConfiguration,
  serviceBaselineSchema,
} from '../shared/deploy-plan';
import { ServiceStateError } from '../shared/errors';
import { defineHandler } from '../shared/handler';

export const startRollingDeployment = defineHandler({
  name: 'start-rolling-deployment',
  description: 'Starts the rolling ECS deployment of the new revision with the circuit breaker and deployment alarms',
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

        const updated = await deps.clients.ecs.send(
          new UpdateServiceCommand({
            cluster: plan.cluster,
            service: plan.ecsServiceName,
            taskDefinition: revision.taskDefinitionArn,
            // Same image as running: restart the tasks rather than do nothing.
            forceNewDeployment: revision.taskDefinitionArn === baseline.previousTaskDefinitionArn,
            healthCheckGracePeriodSeconds: plan.rolling.healthCheckGracePeriodSeconds,
            deploymentConfiguration: rollingDeploymentConfiguration(plan),
          }),
        );
        const primary: Deployment | undefined = updated.service?.deployments?.find((d) => d.status === 'PRIMARY');
        if (!primary?.id) throw new ServiceStateError(`UpdateService on ${plan.ecsServiceName} returned no primary deployment`);
        return {
          deploymentId: primary.id,
          startedAt: (primary.createdAt ?? new Date()).toISOString(),
          taskDefinitionArn: revision.taskDefinitionArn,
        };
      },
      (rollout) => ({ ...rollout }),
    ),
});
