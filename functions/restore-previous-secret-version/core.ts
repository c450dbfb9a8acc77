/**
 * After a failed rotation: makes the previous version AWSCURRENT again
 * (UpdateSecretVersionStage; Secrets Manager moves AWSPREVIOUS to the version it
 * leaves) and takes AWSPENDING off the rotated version, so the next RotateSecret
 * does not find a rotation in progress. Idempotent: a previous
 * version already current moves nothing. A third version current means someone
 * else changed the secret meanwhile: it is not overwritten (SecretRestoreError).
 * Neither is a downstream credential once AWSCURRENT moved: the downstream
 * system already refuses the previous value.
 */
import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { SecretRestoreError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { rotationAuditAction, rotationPlanSchema, rotationResultSchema, rotationVersionFor } from '../shared/domain/rotation-plan';

export const restorePreviousSecretVersion = defineHandler({
  name: 'restore-previous-secret-version',
  description: 'Makes the version before a failed rotation AWSCURRENT again and clears AWSPENDING',
  clients: ['dynamodb', 'secretsManager'],
  input: z.object({ executionId: executionIdSchema, plan: rotationPlanSchema, rotation: rotationResultSchema.nullable() }),
  core: async ({ executionId, plan, rotation }, deps) => {
    const rotatedVersionId = rotation?.versionId ?? plan.rotatedVersionId ?? rotationVersionFor(executionId);
    return audited(
      deps,
      rotationAuditAction('secret.rotate.restore-previous-version', plan, executionId, { before: { rotatedVersionId, restoreTo: plan.previousVersionId } }),
      async () => {
        const read = async (): Promise<[string, string[]][]> =>
          Object.entries((await deps.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: plan.secretArn }))).VersionIdsToStages ?? {});
        let stages = await read();
        const current = stages.find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        let moved = false;
        if (current !== plan.previousVersionId) {
          if (current !== rotatedVersionId) {
            throw new SecretRestoreError(
              `${plan.secretName}: AWSCURRENT is ${current ?? 'on no version'}, neither the rotated version ${rotatedVersionId} nor the previous ${plan.previousVersionId}; someone else changed the secret, so it is left as it is`,
            );
          }
          // A downstream system took the new value in setSecret and refuses the old one now:
          // making the old one current would put every consumer on a password that no longer works.
          if (deps.fleet.secrets[plan.secret]?.kind === 'downstream') {
            throw new SecretRestoreError(
              `${plan.secretName}: the downstream system already accepts only the rotated version ${rotatedVersionId}; the previous version is not restored (consumers would get a password it refuses): a human must act`,
            );
          }
          await deps.clients.secretsManager.send(
            new UpdateSecretVersionStageCommand({
              SecretId: plan.secretArn,
              VersionStage: 'AWSCURRENT',
              MoveToVersionId: plan.previousVersionId,
              RemoveFromVersionId: current,
            }),
          );
          moved = true;
          stages = await read();
        }
        // Only this rotation's version: an AWSPENDING elsewhere is another rotation's, not ours to cancel.
        for (const [versionId, labels] of stages) {
          if (versionId === rotatedVersionId && labels.includes('AWSPENDING') && !labels.includes('AWSCURRENT')) {
            await deps.clients.secretsManager.send(
              new UpdateSecretVersionStageCommand({ SecretId: plan.secretArn, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId }),
            );
          }
        }
        return { moved, restoredVersionId: plan.previousVersionId, rotatedVersionId, restoredAt: new Date().toISOString() };
      },
      (restore) => ({ ...restore }),
    );
  },
});
