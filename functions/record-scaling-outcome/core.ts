/**
 * The scale workflow's last step: the outcome record (a refusal or "unchanged"
 * is a normal outcome with its reason), the service's last decision for
 * `assure scale status`, and a page when a person should know:
 * - a scale-out refused because trading is halted: once per halt and service
 *   (load rising during a halt is worth knowing; every refused alarm is not);
 * - the halt flag unreadable (scaling failed closed);
 * - a scheduled change that did not happen (the session's capacity is not set);
 * - an automatic action suppressed by notify-only (it becomes a page);
 * - a scaling change that failed (its cooldown is given back).
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, failureSchema } from '../shared/domain/deploy-plan';
import { describeFailure } from '../shared/runtime/failure';
import { claimOnce } from '../shared/domain/guard-rails';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';
import { page } from '../shared/domain/paging';
import { lastScalingDecisionKey, type ScaleDecision, scaleDecisionSchema, type ScalePlan, scalePlanSchema, scalingCooldownKey } from '../shared/domain/scaling';

type RecordDeps = HandlerDeps<'dynamodb' | 'sns'>;

export const recordScalingOutcome = defineHandler({
  name: 'record-scaling-outcome',
  description: "Records the scaling decision and its reason, keeps it as the service's last decision, and pages when a person should know",
  clients: ['dynamodb', 'sns'],
  input: z.object({
    executionId: executionIdSchema,
    status: z.enum(['DECIDED', 'FAILED']),
    plan: scalePlanSchema,
    decision: scaleDecisionSchema.nullable(),
    applied: z.object({ desiredCount: z.number().int(), at: z.string() }).nullable(),
    failure: failureSchema.nullable(),
  }),
  core: async ({ executionId, status, plan, decision, applied, failure }, deps) => {
    const outcome = status === 'FAILED' ? 'failed' : decision?.outcome === 'scale' ? 'scaled' : (decision?.outcome ?? 'failed');
    const message =
      status === 'FAILED'
        ? `${plan.service}: scaling failed${decision ? ` (${decision.from} → ${decision.to})` : ''}: ${failure ? describeFailure(failure) : 'unknown error'}`
        : outcome === 'scaled' && decision
          ? `${plan.service} scaled ${decision.direction === 'scale-out' ? 'out' : 'in'} ${decision.from} → ${applied?.desiredCount ?? decision.to} (${decision.reason})`
          : `${plan.service}: ${outcome}: ${decision?.reason ?? ''}`;
    if (status === 'FAILED' && decision?.direction) await giveBackCooldown(deps, plan, decision.direction, executionId);
    const at = new Date().toISOString();
    await writeAuditRecord(deps, {
      action: 'scale',
      subject: plan.service,
      actor: plan.requestedBy,
      source: plan.source,
      executionId,
      reason: decision?.reason ?? plan.reason,
      phase: 'outcome',
      status: status === 'FAILED' ? 'failed' : 'succeeded',
      at,
      ...(decision ? { before: { desiredCount: decision.from } } : {}),
      after: JSON.parse(JSON.stringify({ outcome, message, ...(decision ?? {}) })) as Record<string, unknown>,
      ...(failure ? { error: { name: failure.Error, message: describeFailure(failure).slice(0, 2000) } } : {}),
    });
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall(
          {
            pk: lastScalingDecisionKey(plan.service),
            outcome,
            message,
            source: plan.source,
            requestedBy: plan.requestedBy,
            executionId,
            at,
            ...(decision ? { from: decision.from, to: decision.to, reason: decision.reason } : {}),
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
    const subject = await pageSubject(deps, plan, decision, status, executionId);
    if (subject) await page(deps, subject, `${message}\n\nRequested by ${plan.requestedBy} via ${plan.source}.\nExecution ${executionId}`);
    return { service: plan.service, status, outcome, from: decision?.from ?? null, to: decision?.to ?? null, message };
  },
});

async function pageSubject(
  deps: RecordDeps,
  plan: ScalePlan,
  decision: ScaleDecision | null,
  status: 'DECIDED' | 'FAILED',
  executionId: string,
): Promise<string | undefined> {
  if (status === 'FAILED' || !decision) return `${plan.service} scaling failed`;
  if (decision.outcome === 'suppressed') return `${plan.service} scaling suppressed (notify-only)`;
  if (decision.outcome !== 'refused') return undefined;
  if (decision.refusal === 'halt-flag-unreadable') return `${plan.service} scale-out refused: halt flag unreadable`;
  if (decision.refusal === 'halted') {
    const first = await claimOnce(deps, `scale-refused-halted#${plan.service}#${decision.haltId ?? 'unknown'}`, executionId, { source: plan.source });
    if (first) return `${plan.service} wants to scale out while trading is halted`;
  }
  if (plan.kind === 'schedule') return `${plan.service} scheduled capacity not set (${decision.refusal ?? 'refused'})`;
  return undefined;
}

/** The change did not happen: its cooldown must not hold back the next attempt. */
async function giveBackCooldown(deps: RecordDeps, plan: ScalePlan, direction: 'scale-out' | 'scale-in', executionId: string): Promise<void> {
  try {
    await deps.clients.dynamodb.send(
      new DeleteItemCommand({
        TableName: deps.config.stateTableName,
        Key: marshall({ pk: scalingCooldownKey(plan.service, direction) }),
        ConditionExpression: 'claimId = :me',
        ExpressionAttributeValues: marshall({ ':me': executionId }),
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}
