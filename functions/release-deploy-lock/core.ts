/**
 * Releases the deploy lock, but only if this execution still owns it: a holder
 * whose lease ran out and was taken over cannot release the new owner's lock.
 */
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, serviceTargetSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { readDeployLock, releaseOwnedLock } from '../shared/domain/deploy-lock';
import { defineHandler } from '../shared/runtime/handler';

export interface LockRelease {
  readonly released: boolean;
  /** Set when the lock was not ours to release: who holds it now, or that nobody does. */
  readonly heldBy?: string;
}

export const releaseDeployLock = defineHandler({
  name: 'release-deploy-lock',
  description: "Releases the service's deploy lock if this execution still owns it",
  clients: ['dynamodb'],
  input: z.object({ executionId: executionIdSchema, plan: serviceTargetSchema }),
  core: async ({ executionId, plan }, deps): Promise<LockRelease> =>
    audited(
      deps,
      deployAuditAction('deploy.release-lock', plan, executionId),
      async () => {
        if (await releaseOwnedLock(deps, plan.service, executionId)) return { released: true };
        const holder = (await readDeployLock(deps, plan.service))?.owner ?? 'nobody';
        deps.logger.warn('Deploy lock was not ours to release', { service: plan.service, heldBy: holder });
        return { released: false, heldBy: holder };
      },
      (release) => ({ ...release }),
    ),
});
