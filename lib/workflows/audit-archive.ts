/**
 * The audit archive: no rules and no state machine. Its one function reads the
 * audit table's stream (an event source mapping, which lib/constructs/audit-archive.ts
 * and the sandbox set up) and writes every record to the write-once bucket.
 */
import { archiveAuditRecords } from '../../functions/archive-audit-records/core';
import type { EventRouteSpec } from './workflow-spec';

export const auditArchive = {
  kind: 'event-route',
  name: 'audit-archive',
  functions: { ArchiveAuditRecords: archiveAuditRecords },
  rules: [],
} as const satisfies EventRouteSpec;

/** How the stream is read, as the CDK mapping and the sandbox's both set it. */
export const AUDIT_STREAM_MAPPING = {
  function: 'ArchiveAuditRecords',
  batchSize: 100,
  /** Retries of a failing batch (halved each time with bisect) before its records go to the dead-letter queue. */
  retryAttempts: 10,
  bisectBatchOnError: true,
} as const;
