/**
 * Starts the rotation: RotateSecret with a version id derived from the execution
 * (a retried step asks for the same version, and the rotation function's
 * createSecret is idempotent per version). The version is claimed first, so the
 * RotationSucceeded event of this rotation starts no second workflow. A
 * rotation Secrets Manager already finished (the event's version) is accepted
 * as it is.
 */
import { DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { claimOnce } from '../shared/domain/guard-rails';
import { rotationAuditAction, rotationClaimKey, rotationPlanSchema, type RotationResult, rotationVersionFor } from '../shared/domain/rotation-plan';

export const startSecretRotation = defineHandler({
  name: 'start-secret-rotation',
  description: "Calls RotateSecret with the secret's rotation function (or accepts a rotation Secrets Manager already finished)",
  clients: ['dynamodb', 'secretsManager'],
  input: z.object({ executionId: executionIdSchema, plan: rotationPlanSchema }),
  core: async ({ executionId, plan }, deps): Promise<RotationResult> => {
    if (plan.rotatedVersionId !== null) return { versionId: plan.rotatedVersionId, previousVersionId: plan.previousVersionId };
    const versionId = rotationVersionFor(executionId);
    return audited(
      deps,
      rotationAuditAction('secret.rotate.rotate-secret', plan, executionId, { before: { versionId: plan.previousVersionId } }),
      async () => {
        // Claimed before it exists: the event of this rotation may arrive before RotateSecret returns.
        await claimOnce(deps, rotationClaimKey(plan.secretArn, versionId), executionId, { secret: plan.secret, startedBy: 'assure' }, 90);
        const described = await deps.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: plan.secretArn }));
        // A retried step: the version already exists, the rotation is under way or done.
        if (!(versionId in (described.VersionIdsToStages ?? {}))) {
          await deps.clients.secretsManager.send(new RotateSecretCommand({ SecretId: plan.secretArn, ClientRequestToken: versionId, RotateImmediately: true }));
        }
        return { versionId, previousVersionId: plan.previousVersionId };
      },
      (rotation) => ({ ...rotation }),
    );
  },
});
