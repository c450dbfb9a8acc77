/**
 * First state of the halt workflow, and its first write: the halt flag. An
 * idempotent set: when trading is already halted the first halt's id stands.
 * The flag itself carries the intent (who, why, when); the audit trail records
 * the halt right after, so nothing delays the write that stops trading.
 */
import * as z from 'zod';
import { tradingServices } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { executionName } from '../shared/domain/executions';
import { type Halt, haltAuditAction } from '../shared/domain/halt-plan';
import { defineHandler } from '../shared/runtime/handler';
import { setHaltFlag } from '../shared/domain/halt-flag';
import { requestValidation } from '../shared/domain/request-validation';

/** The documented input of the halt state machine. */
export const haltRequestSchema = z.strictObject({
  reason: z.string().min(1, 'is required').max(500),
  /** Who asks: a person, or `assure` for an alarm. */
  actor: z.string().min(1, 'is required').max(128),
  source: z.string().min(1).max(200).default('console'),
  /** Trading services to halt; the whole fleet's trading services when absent. */
  services: z.array(z.string().min(1)).min(1).optional(),
  /** Set by the alarm router (derived from the event id); generated otherwise. */
  haltId: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,80}$/, 'must be letters, digits and hyphens')
    .optional(),
});

export const setHaltFlagHandler = defineHandler({
  name: 'set-halt-flag',
  description: 'Sets the halt flag (idempotent), first of all, then records the halt',
  clients: ['ssm', 'dynamodb'],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ executionId, request }, deps) => {
    // Only a refusal writes before the flag: an accepted halt's first write is the flag.
    const validation = requestValidation(deps, 'halt', { executionId, request });
    const parsed = await validation.parse(haltRequestSchema);
    const trading = tradingServices(deps.fleet);
    const unknown = (parsed.services ?? []).filter((s) => !trading.includes(s));
    if (unknown.length > 0) {
      return validation.refuse({
        field: 'services',
        reason: `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a trading service' : 'are not trading services'} (trading: ${trading.join(', ')})`,
      });
    }
    const haltId = parsed.haltId ?? `halt-${executionName(executionId)}`.slice(0, 80);
    const { flag, alreadyHalted, alreadyResumed } = await setHaltFlag(deps, { ...parsed, haltId });
    if (alreadyResumed) return validation.refuse({ field: 'haltId', reason: `halt ${haltId} already ran and was resumed; a new halt needs a new id` });
    const halt: Halt = {
      haltId: flag.haltId ?? haltId,
      reason: flag.reason ?? parsed.reason,
      source: parsed.source,
      actor: parsed.actor,
      // The flag is the truth: a fleet-wide halt stores no services, whoever asks later.
      services: flag.services ?? trading,
      alreadyHalted: alreadyHalted && flag.haltId !== haltId,
      flaggedAt: flag.at ?? new Date().toISOString(),
    };
    await writeAuditRecord(deps, {
      ...haltAuditAction('halt', halt, executionId),
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      after: { haltId: halt.haltId, services: halt.services, flagSetAt: halt.flaggedAt, alreadyHalted: halt.alreadyHalted },
    });
    return { request: parsed, halt, actions: null, verification: null, verificationFailure: null, report: null };
  },
});
