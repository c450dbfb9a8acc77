/**
 * The rotation's outcome record, and a page for anything a human must know: a
 * refusal, a rotation rolled back to the previous version, a restore that did
 * not verify, or a fleet file whose consumers disagree with the task
 * definitions. Names and version ids only.
 */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, failureSchema } from '../shared/domain/deploy-plan';
import { describeFailure } from '../shared/runtime/failure';
import { defineHandler } from '../shared/runtime/handler';
import { page } from '../shared/domain/paging';
import { restoreResultSchema, rotationGuardsSchema, rotationPlanSchema, rotationResultSchema, secretSubject } from '../shared/domain/rotation-plan';

export const ROTATION_STATUSES = ['SUCCEEDED', 'REFUSED', 'ROLLED_BACK', 'RESTORE_FAILED'] as const;

export const recordRotationOutcome = defineHandler({
  name: 'record-rotation-outcome',
  description: "Writes the rotation's outcome to the audit trail and pages on-call when a human must know",
  clients: ['dynamodb', 'sns'],
  input: z.object({
    executionId: executionIdSchema,
    status: z.enum(ROTATION_STATUSES),
    plan: rotationPlanSchema,
    guards: rotationGuardsSchema.nullable(),
    rotation: rotationResultSchema.nullable(),
    restore: restoreResultSchema.nullable(),
    failure: failureSchema.nullable(),
    restoreFailure: failureSchema.nullable(),
  }),
  core: async ({ executionId, status, plan, guards, rotation, restore, failure, restoreFailure }, deps) => {
    const consumers = guards?.consumers.map((c) => c.service) ?? [];
    const drift = [
      ...(guards?.unlisted.length ? [`not listed in secrets.${plan.secret}.consumers but referencing it (redeployed): ${guards.unlisted.join(', ')}`] : []),
      ...(guards?.notReferencing.length ? [`listed as consumers but not referencing it (not redeployed): ${guards.notReferencing.join(', ')}`] : []),
    ];
    const versionId = rotation?.versionId ?? plan.rotatedVersionId;
    const why = failure ? describeFailure(failure) : '';
    const message =
      status === 'SUCCEEDED'
        ? `${plan.secretName} rotated to version ${versionId ?? 'unknown'}; ${consumers.length > 0 ? `${consumers.join(', ')} redeployed, healthy, and running only tasks started after it became current` : 'no consumer to redeploy'}`
        : status === 'REFUSED'
          ? `${plan.secretName}: rotation refused, nothing changed. ${why}`
          : status === 'ROLLED_BACK'
            ? `${plan.secretName}: rotation failed and was rolled back: version ${restore?.restoredVersionId ?? plan.previousVersionId} is AWSCURRENT again${restore?.moved ? ` and ${consumers.join(', ') || 'no consumer'} ${consumers.length === 1 ? 'was' : 'were'} redeployed on it and verified` : ' (the new version never became current)'}. ${why}`
            : `${plan.secretName}: rotation failed and restoring version ${plan.previousVersionId} did not verify; a human must act. ${why}${restoreFailure ? ` Restore: ${describeFailure(restoreFailure)}` : ''}`;
    const fullMessage = drift.length > 0 ? `${message}\nFleet file drift for ${plan.secretName}: ${drift.join('; ')}` : message;
    await writeAuditRecord(deps, {
      action: 'secret.rotate',
      subject: secretSubject(plan.secret),
      actor: plan.requestedBy,
      source: plan.source === 'rotation-event' ? 'eventbridge' : 'step-functions',
      executionId,
      reason: plan.reason,
      phase: 'outcome',
      status: status === 'SUCCEEDED' ? 'succeeded' : 'failed',
      at: new Date().toISOString(),
      after: JSON.parse(
        JSON.stringify({
          status,
          versionId,
          previousVersionId: plan.previousVersionId,
          currentSince: rotation?.currentSince,
          consumers,
          restoredVersionId: restore?.restoredVersionId,
          unlisted: guards?.unlisted,
          notReferencing: guards?.notReferencing,
          tradingHalted: guards?.tradingHalted,
          message: fullMessage,
        }),
      ) as Record<string, unknown>,
      ...(failure ? { error: { name: failure.Error, message: describeFailure(failure).slice(0, 2000) } } : {}),
    });
    if (status !== 'SUCCEEDED' || drift.length > 0) {
      const subject = status === 'SUCCEEDED' ? `${plan.secret} rotated; fleet file drift` : `${plan.secret} rotation ${status.toLowerCase().replace('_', ' ')}`;
      await page(deps, subject, `${fullMessage}\n\nRequested by ${plan.requestedBy} via ${plan.source}.\nExecution ${executionId}`);
    }
    return {
      secret: plan.secret,
      status,
      versionId: status === 'SUCCEEDED' ? versionId : (restore?.restoredVersionId ?? plan.previousVersionId),
      consumers,
      message: fullMessage,
    };
  },
});
