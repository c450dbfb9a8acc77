/**
 * The rotate-secret workflow's plan and results, carried in the execution's
 * state. Only names, ARNs and version ids: a secret's value never enters state.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { AuditAction } from './audit';
import { serviceTargetSchema } from './deploy-plan';

export const ROTATION_SOURCES = ['console', 'cli', 'rotation-event'] as const;

export const rotationPlanSchema = z.object({
  /** The secret's id in the fleet file. */
  secret: z.string(),
  secretName: z.string(),
  secretArn: z.string(),
  /** The environment variable consumers receive it as. */
  variable: z.string(),
  requestedBy: z.string(),
  reason: z.string(),
  source: z.enum(ROTATION_SOURCES),
  /** AWSCURRENT before this rotation: the version a failure restores. */
  previousVersionId: z.string(),
  /** A rotation Secrets Manager already finished (a scheduled rotation's event); null when Assure rotates. */
  rotatedVersionId: z.string().nullable(),
});
export type RotationPlan = z.output<typeof rotationPlanSchema>;

/** A consumer's redeploy target: the service target, its lock lease covering the whole rotation. */
export const consumerTargetSchema = serviceTargetSchema;
export type ConsumerTarget = z.output<typeof consumerTargetSchema>;

export const rotationGuardsSchema = z.object({
  consumers: z.array(consumerTargetSchema),
  /** Fleet-file consumers whose task definitions do not reference the secret: not redeployed. */
  notReferencing: z.array(z.string()),
  /** Services referencing the secret that the fleet file does not list (redeployed only after a rotation already happened). */
  unlisted: z.array(z.string()),
  /** Trading was halted when the rotation started: it goes ahead (new tasks read the halt flag when they start). */
  tradingHalted: z.boolean(),
});
export type RotationGuards = z.output<typeof rotationGuardsSchema>;

export const rotationResultSchema = z.object({
  versionId: z.string(),
  previousVersionId: z.string(),
  /** When the new version was seen AWSCURRENT: tasks started before it may hold the old value. */
  currentSince: z.string().optional(),
});
export type RotationResult = z.output<typeof rotationResultSchema>;

export const restoreResultSchema = z.object({
  /** Whether AWSCURRENT had to be moved back (false: the new version never became current). */
  moved: z.boolean(),
  restoredVersionId: z.string(),
  rotatedVersionId: z.string(),
  restoredAt: z.string(),
});

/** Audit subject of a secret: `secret:<fleet id>` (`assure history secret:<id>`). */
export const secretSubject = (secret: string): string => `secret:${secret}`;

export function rotationAuditAction(
  action: string,
  plan: Pick<RotationPlan, 'secret' | 'requestedBy' | 'source' | 'reason'>,
  executionId: string,
  details: Pick<AuditAction, 'before'> & { readonly subject?: string } = {},
): AuditAction {
  return {
    action,
    subject: details.subject ?? secretSubject(plan.secret),
    actor: plan.requestedBy,
    source: plan.source === 'rotation-event' ? 'eventbridge' : 'step-functions',
    executionId,
    reason: plan.reason,
    ...(details.before ? { before: details.before } : {}),
  };
}

/**
 * The ClientRequestToken (the new version's id) of this execution's rotation:
 * derived from the execution, so a retried step asks for the same version.
 */
export function rotationVersionFor(executionId: string): string {
  const hex = createHash('sha256').update(`rotate-secret:${executionId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Marks a version as rotated by Assure or already handled, so its RotationSucceeded event starts nothing. */
export const rotationClaimKey = (secretArn: string, versionId: string): string => `rotation#${secretArn}#${versionId}`;

/**
 * Whether a container secret's `valueFrom` names this secret: its full ARN (with
 * an optional `:json-key:version-stage:version-id` suffix), its partial ARN, or
 * its name (same account and region).
 */
export function referencesSecret(valueFrom: string, secret: { readonly arn: string; readonly name: string }): boolean {
  if (valueFrom === secret.name) return true;
  if (valueFrom === secret.arn || valueFrom.startsWith(`${secret.arn}:`)) return true;
  const partial = secret.arn.slice(0, -7);
  return valueFrom === partial || valueFrom.startsWith(`${partial}:`);
}
