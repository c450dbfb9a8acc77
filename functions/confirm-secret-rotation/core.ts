/**
 * Confirms the new version is AWSCURRENT and records when it was seen so: every
 * task started before that time may hold the old value. While the rotation
 * function is still working (the version is AWSPENDING) it fails with
 * SecretRotationPendingError, which the state machine retries.
 */
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { SecretRotationFailedError, SecretRotationPendingError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { rotationPlanSchema, type RotationResult, rotationResultSchema } from '../shared/domain/rotation-plan';

export const confirmSecretRotation = defineHandler({
  name: 'confirm-secret-rotation',
  description: 'Confirms the rotated version is AWSCURRENT and records since when',
  clients: ['secretsManager'],
  input: z.object({ executionId: executionIdSchema, plan: rotationPlanSchema, rotation: rotationResultSchema }),
  core: async ({ plan, rotation }, deps): Promise<RotationResult> => {
    const described = await deps.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: plan.secretArn }));
    const stages = described.VersionIdsToStages?.[rotation.versionId] ?? [];
    if (stages.includes('AWSCURRENT')) {
      deps.logger.info('Rotated version is current', { secret: plan.secret, versionId: rotation.versionId });
      return { ...rotation, currentSince: new Date().toISOString() };
    }
    if (stages.includes('AWSPENDING')) throw new SecretRotationPendingError(`${plan.secretName}: version ${rotation.versionId} is still AWSPENDING`);
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0] ?? 'none';
    throw new SecretRotationFailedError(
      `${plan.secretName}: version ${rotation.versionId} did not become AWSCURRENT (stages: ${stages.join(', ') || 'none'}; AWSCURRENT is ${current})`,
    );
  },
});
