/**
 * "Set desired count": the one write the scale workflow makes to ECS,
 * UpdateService with only desiredCount (no new deployment), between an intent
 * and an outcome record. Setting the same count again is harmless, so a retried
 * step is idempotent.
 */
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { scaleDecisionSchema, scalePlanSchema } from '../shared/domain/scaling';

export const applyScalingDecision = defineHandler({
  name: 'apply-scaling-decision',
  description: "Sets the ECS service's desired count the scaling decision chose",
  clients: ['dynamodb', 'ecs'],
  input: z.object({ executionId: executionIdSchema, plan: scalePlanSchema, decision: scaleDecisionSchema }),
  core: async ({ executionId, plan, decision }, deps) =>
    audited(
      deps,
      {
        action: 'scale.update-service',
        subject: plan.service,
        actor: plan.requestedBy,
        source: plan.source,
        executionId,
        reason: decision.reason,
        before: { desiredCount: decision.from },
      },
      async () => {
        const updated = await deps.clients.ecs.send(
          new UpdateServiceCommand({ cluster: plan.cluster, service: plan.ecsServiceName, desiredCount: decision.to }),
        );
        return { desiredCount: updated.service?.desiredCount ?? decision.to, at: new Date().toISOString() };
      },
      (applied) => ({ ...applied }),
    ),
});
