/**
 * First state of the rotate-secret workflow: checks the request against the
 * fleet file and Secrets Manager (names and version ids only, never a value) and
 * resolves the rotation plan, including the version a failure restores.
 */
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { findSecret } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { requestValidation } from '../shared/domain/request-validation';
import { defineHandler } from '../shared/runtime/handler';
import { ROTATION_SOURCES, type RotationPlan, secretSubject } from '../shared/domain/rotation-plan';

/**
 * The documented input of the rotate-secret state machine:
 * `{secret, requestedBy, reason?, source?}` rotates now;
 * `{secret, rotatedVersionId, source: "rotation-event", requestedBy}` follows up a rotation Secrets Manager finished.
 */
export const rotationRequestSchema = z
  .strictObject({
    secret: z.string().min(1, 'is required').max(2048),
    requestedBy: z.string().min(1, 'is required').max(128),
    reason: z.string().max(500).optional(),
    source: z.enum(ROTATION_SOURCES).default('console'),
    rotatedVersionId: z.string().min(1).max(64).optional(),
  })
  .superRefine((request, context) => {
    if (request.source === 'rotation-event' && request.rotatedVersionId === undefined) {
      context.addIssue({ code: 'custom', path: ['rotatedVersionId'], message: 'is required when source is rotation-event' });
    }
    if (request.source !== 'rotation-event' && request.rotatedVersionId !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['rotatedVersionId'],
        message: 'is only accepted with source rotation-event (Assure rotates the secret itself otherwise)',
      });
    }
  });
export type RotationRequest = z.output<typeof rotationRequestSchema>;

/** The execution's state after this step: every key later states read, so no JSONPath meets a missing field. */
export interface RotationState {
  readonly request: RotationRequest;
  readonly plan: RotationPlan;
  readonly guards: null;
  readonly rotation: null;
  readonly redeploys: null;
  readonly failure: null;
  readonly restore: null;
  readonly restoreFailure: null;
}

export const validateRotationRequest = defineHandler({
  name: 'validate-rotation-request',
  description: 'Validates a rotate-secret request against the fleet file and resolves the rotation plan',
  clients: ['dynamodb', 'secretsManager'],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ executionId, request }, deps): Promise<RotationState> => {
    const validation = requestValidation(deps, 'rotate-secret', { executionId, request });
    const parsed = await validation.parse(rotationRequestSchema);
    const { secret: requested, requestedBy, reason, source, rotatedVersionId } = parsed;
    const secret = findSecret(deps.fleet, requested);
    if (!secret) {
      return validation.refuse({
        field: 'secret',
        reason: `${requested} is not a managed secret of the ${deps.fleet.environment} fleet (known: ${Object.keys(deps.fleet.secrets).join(', ') || 'none'})`,
      });
    }
    const subject = secretSubject(secret.id);

    const described = await deps.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secret.name }));
    const stages = Object.entries(described.VersionIdsToStages ?? {});
    const holding = (stage: string): string | undefined => stages.find(([, s]) => s.includes(stage))?.[0];
    const current = holding('AWSCURRENT');
    if (!described.ARN || !current) return validation.refuse({ subject, field: 'secret', reason: `${secret.name} has no AWSCURRENT version` });

    let previousVersionId = current;
    if (rotatedVersionId !== undefined) {
      if (rotatedVersionId !== current) {
        return validation.refuse({
          subject,
          field: 'rotatedVersionId',
          reason: `${rotatedVersionId} is not the AWSCURRENT version of ${secret.name} (${current} is); a later rotation or a restore superseded it`,
        });
      }
      const previous = holding('AWSPREVIOUS');
      if (!previous) return validation.refuse({ subject, field: 'rotatedVersionId', reason: `${secret.name} has no AWSPREVIOUS version to fall back on` });
      previousVersionId = previous;
    }

    const plan: RotationPlan = {
      secret: secret.id,
      secretName: secret.name,
      secretArn: described.ARN,
      variable: secret.variable,
      requestedBy,
      reason: reason ?? (source === 'rotation-event' ? `scheduled rotation of ${secret.name}` : `rotate ${secret.name}`),
      source,
      previousVersionId,
      rotatedVersionId: rotatedVersionId ?? null,
    };
    await writeAuditRecord(deps, {
      action: 'secret.rotate',
      subject,
      actor: requestedBy,
      source: source === 'rotation-event' ? 'eventbridge' : 'step-functions',
      executionId,
      reason: plan.reason,
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      before: { versionId: previousVersionId, ...(rotatedVersionId ? { rotatedVersionId } : {}) },
    });
    return { request: parsed, plan, guards: null, rotation: null, redeploys: null, failure: null, restore: null, restoreFailure: null };
  },
});
