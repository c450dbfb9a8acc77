/**
 * Proves no consumer task still holds the version it should not: every running
 * task of every consumer was created (and started) at or after the time the
 * expected version became AWSCURRENT. ECS fetches a task's secrets before its
 * containers start, so a task created earlier may hold the earlier value even if
 * it started later: both times must be on or after it.
 */
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { describeServiceTasks, taskId } from '../shared/domain/ecs-tasks';
import { StaleSecretTasksError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { consumerTargetSchema, rotationAuditAction, rotationPlanSchema } from '../shared/domain/rotation-plan';

export const verifyConsumerTasks = defineHandler({
  name: 'verify-consumer-tasks',
  description: 'Verifies every running consumer task started after the expected secret version became current',
  clients: ['dynamodb', 'ecs'],
  input: z.object({
    executionId: executionIdSchema,
    plan: rotationPlanSchema,
    consumers: z.array(consumerTargetSchema),
    /** When the version the tasks must hold became AWSCURRENT. */
    since: z.string(),
    versionId: z.string(),
    phase: z.enum(['rotation', 'restore']),
  }),
  core: async ({ executionId, plan, consumers, since, versionId, phase }, deps) =>
    audited(
      deps,
      rotationAuditAction(`secret.rotate.verify-tasks.${phase}`, plan, executionId, { before: { versionId, since } }),
      async () => {
        const sinceMs = Date.parse(since);
        const stale: string[] = [];
        const counts: Record<string, number> = {};
        for (const consumer of consumers) {
          const tasks = await describeServiceTasks(deps, consumer.cluster, consumer.ecsServiceName, 'RUNNING');
          counts[consumer.service] = tasks.length;
          const old = tasks.filter((t) => [t.createdAt, t.startedAt].some((at) => at !== undefined && at.getTime() < sinceMs));
          if (old.length > 0) stale.push(`${consumer.service}: ${old.length} of ${tasks.length} tasks started before ${since} (${old.map(taskId).join(', ')})`);
        }
        if (stale.length > 0) {
          throw new StaleSecretTasksError(`Tasks may still hold a ${plan.secretName} version other than ${versionId}: ${stale.join('; ')}`);
        }
        return { versionId, since, checkedAt: new Date().toISOString(), runningTasks: counts };
      },
      (verified) => ({ ...verified }),
    ),
});
