/**
 * One deployment per service at a time: takes the service's deploy lock
 * (functions/shared/domain/deploy-lock.ts) with the execution as owner.
 */
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, serviceTargetSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { takeDeployLock } from '../shared/domain/deploy-lock';
import { defineHandler } from '../shared/runtime/handler';

export const acquireDeployLock = defineHandler({
  name: 'acquire-deploy-lock',
  description: "Takes the service's deploy lock (a DynamoDB lease) for this execution",
  clients: ['dynamodb'],
  input: z.object({
    executionId: executionIdSchema,
    plan: serviceTargetSchema.extend({ image: z.string().optional() }),
    /** A stopped execution whose lock this one may take over (a rollback that stopped a deploy). */
    takeOverFrom: z.string().nullish(),
  }),
  core: async ({ executionId, plan, takeOverFrom }, deps) =>
    audited(
      deps,
      deployAuditAction('deploy.acquire-lock', plan, executionId, { reason: plan.reason }),
      async () => {
        const leaseExpiresAt = await takeDeployLock(deps, {
          service: plan.service,
          owner: executionId,
          leaseSeconds: plan.lockLeaseSeconds,
          reason: plan.reason,
          requestedBy: plan.requestedBy,
          image: plan.image,
          takeOverFrom,
        });
        return { owner: executionId, leaseExpiresAt: new Date(leaseExpiresAt * 1000).toISOString() };
      },
      (lock) => lock,
    ),
});
