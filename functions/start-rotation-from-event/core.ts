/**
 * EventBridge target for Secrets Manager's `RotationSucceeded` (a CloudTrail
 * service event) on the fleet's managed secrets: a scheduled rotation finished,
 * so the consumers still hold the old value until they are redeployed. Starts
 * the rotate-secret workflow with `source: rotation-event` and the version now
 * AWSCURRENT, under an execution name from the event id. The version is claimed
 * once: a duplicated event, or the event of a rotation Assure itself started
 * (claimed by start-secret-rotation), starts nothing.
 */
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { findSecret } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { eventExecutionName, startNamedExecution } from '../shared/domain/executions';
import { claimOnce } from '../shared/domain/guard-rails';
import { untrustedEventReason } from '../shared/domain/aws-events';
import { defineHandler, describeIssues } from '../shared/runtime/handler';
import { rotationClaimKey, secretSubject } from '../shared/domain/rotation-plan';

export const rotationSucceededEventSchema = z.object({
  id: z.string().min(1),
  source: z.literal('aws.secretsmanager'),
  'detail-type': z.literal('AWS Service Event via CloudTrail'),
  account: z.string(),
  region: z.string(),
  time: z.string(),
  'replay-name': z.string().optional(),
  detail: z.looseObject({
    eventSource: z.literal('secretsmanager.amazonaws.com'),
    eventName: z.literal('RotationSucceeded'),
    additionalEventData: z.looseObject({ SecretId: z.string().min(1) }),
  }),
});

export type RotationEventDecision = 'started' | 'duplicate' | 'ignored' | 'refused';

/** Execution names from the event id: a redelivered event cannot start a second execution. */
export const rotationExecutionName = (eventId: string): string => eventExecutionName('rotation', eventId);

export const startRotationFromEvent = defineHandler({
  name: 'start-rotation-from-event',
  description: "Starts the rotate-secret workflow when Secrets Manager finishes a managed secret's scheduled rotation",
  clients: ['dynamodb', 'sfn', 'secretsManager'],
  input: z.unknown(),
  core: async (raw, deps): Promise<{ eventId: string; decision: RotationEventDecision; why: string; executionArn?: string }> => {
    const rawId = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : 'unknown';
    const decide = async (
      decision: RotationEventDecision,
      why: string,
      subject = 'fleet',
      executionArn?: string,
    ): Promise<{ eventId: string; decision: RotationEventDecision; why: string; executionArn?: string }> => {
      const result = { eventId: rawId, decision, why, ...(executionArn ? { executionArn } : {}) };
      deps.logger.info('Rotation event handled', result);
      await writeAuditRecord(deps, {
        action: 'secret.rotation-event',
        subject,
        actor: 'secretsmanager',
        source: `eventbridge:${rawId}`,
        executionId: executionArn ?? `event:${rawId}`,
        reason: why,
        phase: 'outcome',
        status: decision === 'refused' ? 'failed' : 'succeeded',
        at: new Date().toISOString(),
        after: { decision },
      });
      return result;
    };

    const parsed = rotationSucceededEventSchema.safeParse(raw);
    if (!parsed.success) return decide('ignored', `not a RotationSucceeded event: ${describeIssues(parsed.error)}`);
    const event = parsed.data;
    const untrusted = untrustedEventReason(event, { ...deps.config, maxEventAgeSeconds: deps.fleet.guardRails.maxEventAgeSeconds });
    if (untrusted) return decide('refused', untrusted);
    const secretArn = event.detail.additionalEventData.SecretId;
    const secret = findSecret(deps.fleet, secretArn);
    if (!secret) return decide('ignored', `${secretArn} is not a managed secret of the ${deps.fleet.environment} fleet`);
    const subject = secretSubject(secret.id);

    // Each event once: a redelivery after the workflow restored the previous version must not "follow up" that version.
    const eventClaim = await claimOnce(deps, `rotation-event#${event.id}`, event.id, { secret: secret.id }, 90);
    if (!eventClaim) return decide('duplicate', `event ${event.id} was already handled`, subject);

    // The event names no version: the one AWSCURRENT now is the one this rotation made (or a later one, which the workflow refuses).
    const described = await deps.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretArn }));
    const versionId = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
    if (!versionId) {
      await eventClaim.release();
      return decide('ignored', `${secret.name} has no AWSCURRENT version`, subject);
    }
    const claim = await claimOnce(
      deps,
      rotationClaimKey(described.ARN ?? secretArn, versionId),
      event.id,
      { secret: secret.id, startedBy: 'rotation-event' },
      90,
    );
    if (!claim)
      return decide(
        'duplicate',
        `version ${versionId} of ${secret.name} is already handled (rotated by Assure, or an earlier delivery of this rotation's event)`,
        subject,
      );

    const input = {
      secret: secret.id,
      rotatedVersionId: versionId,
      source: 'rotation-event',
      requestedBy: 'secretsmanager',
      reason: `scheduled rotation of ${secret.name} (event ${event.id})`,
    };
    let started: Awaited<ReturnType<typeof startNamedExecution>>;
    try {
      started = await startNamedExecution(deps, deps.config.stateMachineArns['rotate-secret'], rotationExecutionName(event.id), input);
    } catch (error) {
      // Given back so EventBridge's retry of this event is not refused by its own claims.
      await claim.release();
      await eventClaim.release();
      throw error;
    }
    if (!started) return decide('duplicate', `this event already started ${rotationExecutionName(event.id)}`, subject);
    return decide('started', `redeploying the consumers of ${secret.name} on version ${versionId}`, subject, started.executionArn);
  },
});
