/** The halt workflow's state: which halt, why, and which trading services it covers. */
import * as z from 'zod';
import type { AuditAction } from './audit';

export const haltSchema = z.object({
  haltId: z.string(),
  reason: z.string(),
  source: z.string(),
  actor: z.string(),
  services: z.array(z.string()),
  alreadyHalted: z.boolean(),
  flaggedAt: z.string(),
});
export type Halt = z.output<typeof haltSchema>;

/** Where the hard-stopped services' capacity is kept until the resume restores it. */
export const capacitySnapshotKey = (haltId: string, service: string): string => `halt#${haltId}#capacity#${service}`;

/** What a halt step records: about the whole fleet, on behalf of whoever halted, from where the halt came. */
export const haltAuditAction = (action: string, halt: Pick<Halt, 'actor' | 'source' | 'reason'>, executionId: string): AuditAction => ({
  action,
  subject: 'fleet',
  actor: halt.actor,
  source: halt.source,
  executionId,
  reason: halt.reason,
});
