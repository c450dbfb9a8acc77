/**
 * The audit archive: no rules and no state machine. Its one function reads the
 * audit table's stream (an event source mapping, which lib/constructs/audit-archive.ts
 * and the sandbox set up) and writes every record to the write-once bucket.
 */
import { archiveAuditRecords } from '../../functions/archive-audit-records/core';
import type { Fleet } from '../fleet/fleet';
import type { EventRouteSpec } from './workflow-spec';

export const auditArchive = {
  kind: 'event-route',
  name: 'audit-archive',
  functions: { ArchiveAuditRecords: archiveAuditRecords },
  rules: [],
} as const satisfies EventRouteSpec;

/** How the stream is read, as the CDK mapping and the sandbox's both set it. */
export const AUDIT_STREAM_MAPPING = {
  /** The table whose stream is read (its name in the configuration). */
  table: 'auditTableName',
  function: 'ArchiveAuditRecords',
  batchSize: 100,
  /** Retries of a failing batch (halved each time with bisect) before its records go to the dead-letter queue. */
  retryAttempts: 10,
  bisectBatchOnError: true,
} as const;

/** Object Lock retention is whole days or years; 365-day years keep it at the years asked for, never a leap day beyond. */
const DAYS_PER_YEAR = 365;

/** The archive bucket's default retention: compliance mode, for the fleet's `audit.retentionYears`. */
export const auditArchiveRetention = (fleet: Fleet): { readonly mode: 'COMPLIANCE'; readonly days: number } => ({
  mode: 'COMPLIANCE',
  days: fleet.audit.retentionYears * DAYS_PER_YEAR,
});
