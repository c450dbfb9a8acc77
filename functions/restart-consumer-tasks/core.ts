/**
 * Replaces a consumer's tasks so they read the secret again (ECS injects secrets
 * only when a task starts): UpdateService with forceNewDeployment on the
 * revision it already runs, with the service's strategy and rollback alarms, as
 * a deploy (for blue/green, canary and linear: the load balancer, no hook). A retried step finds its own deployment (one
 * created since `notBefore` on that revision). A consumer scaled to zero (a hard
 * halt) holds no value: nothing to replace.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { ServiceStateError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { consumerTargetSchema, rotationAuditAction, rotationPlanSchema } from '../shared/domain/rotation-plan';
import { restartWithLoadBalancer } from '../shared/domain/deployment-strategy';
import { startRollout } from '../shared/domain/service-deployments';

export interface ConsumerRestart {
  readonly service: string;
  readonly skipped: boolean;
  readonly deploymentId: string | null;
  readonly startedAt: string;
  readonly taskDefinitionArn: string;
}

export const restartConsumerTasks = defineHandler({
  name: 'restart-consumer-tasks',
  description: "Replaces a secret consumer's tasks (forceNewDeployment on its current revision) so they read the secret again",
  clients: ['dynamodb', 'ecs'],
  input: z.object({
    executionId: executionIdSchema,
    plan: rotationPlanSchema,
    consumer: consumerTargetSchema,
    /** When this pass began (the new version current, or the old one restored): a deployment since then is this pass's. */
    notBefore: z.string(),
    phase: z.enum(['rotation', 'restore']),
  }),
  core: async ({ executionId, plan, consumer, notBefore, phase }, deps): Promise<ConsumerRestart> =>
    audited(
      deps,
      rotationAuditAction(`secret.rotate.redeploy-consumer.${phase}`, plan, executionId, { subject: consumer.service }),
      async () => {
        const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: consumer.cluster, services: [consumer.ecsServiceName] }));
        const service = described.services?.[0];
        const primary = service?.deployments?.find((d) => d.status === 'PRIMARY');
        if (!service || service.status !== 'ACTIVE' || !primary?.taskDefinition || !primary.id) {
          throw new ServiceStateError(
            `ECS service ${consumer.ecsServiceName} cannot be redeployed: ${described.failures?.[0]?.reason ?? service?.status ?? 'MISSING'}`,
          );
        }
        const taskDefinitionArn = primary.taskDefinition;
        if ((service.desiredCount ?? 0) === 0 && (service.runningCount ?? 0) === 0) {
          return { service: consumer.service, skipped: true, deploymentId: null, startedAt: notBefore, taskDefinitionArn };
        }
        if (primary.createdAt && primary.createdAt.getTime() >= Date.parse(notBefore)) {
          return { service: consumer.service, skipped: false, deploymentId: primary.id, startedAt: primary.createdAt.toISOString(), taskDefinitionArn };
        }
        // The revision it runs, named: a deploy that slipped in cannot change what this restart runs.
        const rollout = await startRollout(deps, consumer, taskDefinitionArn, {
          forceNewDeployment: true,
          healthCheckGracePeriodSeconds: consumer.rolling.healthCheckGracePeriodSeconds,
          ...restartWithLoadBalancer(consumer, deps.config),
        });
        return { service: consumer.service, skipped: false, ...rollout, taskDefinitionArn };
      },
      (restart) => ({ ...restart }),
    ),
});
