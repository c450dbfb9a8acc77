/**
 * The halt's outcome record and the page: CONFIRMED when every halted trading
 * service confirmed, ESCALATED (naming each service that did not) otherwise.
 */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, failureSchema } from '../shared/domain/deploy-plan';
import { describeFailure } from '../shared/runtime/failure';
import { defineHandler } from '../shared/runtime/handler';
import { haltSchema, haltAuditAction } from '../shared/domain/halt-plan';

const verificationSchema = z.object({
  deadlineSeconds: z.number(),
  verifiedAt: z.string(),
  confirmed: z.array(z.object({ service: z.string(), evidence: z.string() })),
  unconfirmed: z.array(z.object({ service: z.string(), evidence: z.string() })),
});

/** A Parallel branch's output: the action's result, or `{failed: true, error}` when its Catch caught it. */
const branchSchema = z.union([z.object({ failed: z.literal(true), error: failureSchema }), z.record(z.string(), z.unknown())]);

export const recordHaltOutcome = defineHandler({
  name: 'record-halt-outcome',
  description: 'Writes the halt outcome to the audit trail and composes the page',
  clients: ['dynamodb'],
  input: z.object({
    executionId: executionIdSchema,
    halt: haltSchema,
    actions: z.array(branchSchema).nullable(),
    verification: verificationSchema.nullable(),
    verificationFailure: failureSchema.nullish(),
  }),
  core: async ({ executionId, halt, actions, verification, verificationFailure }, deps) => {
    const unconfirmed =
      verification?.unconfirmed ??
      halt.services.map((service) => ({ service, evidence: verificationFailure ? describeFailure(verificationFailure) : 'not verified' }));
    const failedActions = (actions ?? [])
      .map((a, i) => ({ a, name: ['admin halt calls', 'stopping deploys', 'hard stops'][i] ?? `action ${i}` }))
      .filter(({ a }) => 'failed' in a && a.failed === true)
      .map(({ a, name }) => `${name}: ${describeFailure((a as { error: { Error: string; Cause?: string } }).error)}`);
    const status = unconfirmed.length === 0 && failedActions.length === 0 ? 'CONFIRMED' : 'ESCALATED';
    const notConfirmed =
      unconfirmed.length > 0
        ? `NOT CONFIRMED, act now: ${unconfirmed.map((u) => `${u.service} (${u.evidence})`).join('; ')}`
        : `Every service confirmed, but part of the halt failed: check by hand.`;
    const lines = [
      `Halt ${halt.haltId}${halt.alreadyHalted ? ' (trading was already halted)' : ''}: ${halt.reason}`,
      `Requested by ${halt.actor} via ${halt.source}; flag set at ${halt.flaggedAt}.`,
      status === 'CONFIRMED' ? `Trading stopped: ${halt.services.join(', ')} confirmed within ${verification?.deadlineSeconds ?? '?'} s.` : notConfirmed,
      ...failedActions.map((f) => `Failed: ${f}`),
      // The on-call's next step: the flag holds until two people resume.
      `Trading stays halted until a resume is approved: assure resume --reason <why>, then a second person approves.`,
      `Execution ${executionId}`,
    ];
    const message = lines.join('\n');
    const subject = pageSubject(
      status,
      halt.haltId,
      unconfirmed.map((u) => u.service),
      failedActions.length,
    );
    await writeAuditRecord(deps, {
      ...haltAuditAction('halt', halt, executionId),
      phase: 'outcome',
      status: status === 'CONFIRMED' ? 'succeeded' : 'failed',
      at: new Date().toISOString(),
      after: {
        haltId: halt.haltId,
        status,
        confirmed: verification?.confirmed.map((c) => c.service) ?? [],
        unconfirmed: unconfirmed.map((u) => u.service),
        // The halt's one page, sent by the state machine next: a halt pages once, here, with its verified outcome.
        page: subject,
      },
    });
    return {
      status,
      haltId: halt.haltId,
      unconfirmed: unconfirmed.map((u) => u.service),
      subject,
      message,
    };
  },
});

/** The page subject: SNS takes at most 100 characters, so services that do not fit are counted instead. */
export function pageSubject(status: 'CONFIRMED' | 'ESCALATED', haltId: string, unconfirmed: readonly string[], failedActions: number): string {
  if (status === 'CONFIRMED') return `Trading halted (${haltId})`.slice(0, 100);
  if (unconfirmed.length === 0) return `HALT INCOMPLETE: ${failedActions} halt action${failedActions === 1 ? '' : 's'} failed`;
  const head = 'HALT NOT CONFIRMED: ';
  for (let shown = unconfirmed.length; shown > 0; shown -= 1) {
    const rest = unconfirmed.length - shown;
    const subject = `${head}${unconfirmed.slice(0, shown).join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
    if (subject.length <= 100) return subject;
  }
  return `${head}${unconfirmed.length} services`;
}
