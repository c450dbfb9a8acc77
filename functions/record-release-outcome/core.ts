/**
 * The release's last step: records each rollback's outcome, the fleet's
 * revisions after the release, and the release's status (SUCCEEDED, FAILED or
 * SUPERSEDED) in `release#<id>` and the audit trail (subject `release/<id>`);
 * pages when a person must act (a service could not be rolled back, or the
 * released tasks do not all run the released digest).
 */
import * as z from 'zod';
import { fleetService } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, failureSchema } from '../shared/domain/deploy-plan';
import { page } from '../shared/domain/paging';
import { currentRevision, type FleetRevision, type ReleaseStatus, releaseSubject, requireRelease, writeRelease } from '../shared/domain/release';
import { defineHandler } from '../shared/runtime/handler';

export const rollbackResultSchema = z.object({
  service: z.string(),
  status: z.enum(['ROLLED_BACK', 'ROLLBACK_FAILED']),
  executionArn: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});

export interface ReleaseOutcome {
  readonly releaseId: string;
  readonly status: ReleaseStatus;
  /** For the state machine's Fail state. */
  readonly error: string;
  readonly cause: string;
}

export const recordReleaseOutcome = defineHandler({
  name: 'record-release-outcome',
  description: "Records a release's final status, per-service account and the fleet's revisions after it",
  clients: ['dynamodb', 'ecs', 'sns'],
  input: z.object({
    executionId: executionIdSchema,
    releaseId: z.string().min(1),
    outcome: z.enum(['SUCCEEDED', 'FAILED', 'SUPERSEDED']),
    rollbacks: z.array(rollbackResultSchema).nullable().default(null),
    failure: failureSchema.nullable().default(null),
  }),
  core: async ({ executionId, releaseId, outcome, rollbacks, failure }, deps): Promise<ReleaseOutcome> => {
    const record = await requireRelease(deps, releaseId);
    const rollbackFailures: string[] = [];
    for (const result of rollbacks ?? []) {
      const account = record.services[result.service];
      if (!account) continue;
      if (result.executionArn) account.rollbackExecutionArn = result.executionArn;
      if (result.status === 'ROLLED_BACK') account.status = 'ROLLED_BACK';
      else {
        const why = `rollback failed: ${result.error ?? ''} ${result.cause ?? ''}`.trim().slice(0, 1000);
        account.reason = account.reason ? `${account.reason}; ${why}` : why;
        rollbackFailures.push(`${result.service}: ${why}`);
      }
    }
    if (failure && !record.failure) record.failure = { error: failure.Error, ...(failure.Cause ? { cause: failure.Cause.slice(0, 2000) } : {}) };
    let status: ReleaseStatus;
    if (outcome === 'SUPERSEDED') status = 'SUPERSEDED';
    else if (record.kind === 'rollback') status = rollbackFailures.length === 0 && !record.failure ? 'SUCCEEDED' : 'FAILED';
    else status = outcome === 'SUCCEEDED' && !record.failure ? 'SUCCEEDED' : 'FAILED';
    if (status === 'SUPERSEDED') {
      for (const account of Object.values(record.services)) if (account.status === 'PENDING') account.status = 'SKIPPED';
    }

    const fleetAfter: Record<string, FleetRevision> = {};
    for (const id of Object.keys(record.services)) {
      const service = fleetService(deps.fleet, id);
      if (service) fleetAfter[id] = await currentRevision(deps, deps.fleet, service);
    }
    record.fleetAfter = fleetAfter;
    record.status = status;
    record.finishedAt = new Date().toISOString();
    await writeRelease(deps, record);

    const accounts = Object.values(record.services).map((s) => `${s.service} ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
    await writeAuditRecord(deps, {
      action: 'release.finished',
      subject: releaseSubject(releaseId),
      actor: record.requestedBy,
      source: 'step-functions',
      executionId,
      reason: record.reason,
      phase: 'outcome',
      status: status === 'FAILED' ? 'failed' : 'succeeded',
      at: record.finishedAt,
      before: { fleet: record.fleetBefore },
      after: { status, kind: record.kind, services: accounts, fleet: fleetAfter, ...(record.failure ? { failure: record.failure } : {}) },
    });
    const inconsistent = record.consistency?.proven === false;
    if (rollbackFailures.length > 0 || inconsistent) {
      await page(
        deps,
        `Release ${releaseId} needs a person`,
        [
          `Release ${releaseId} (${record.reason}) ended ${status}.`,
          ...(inconsistent ? [`Consistency proof failed: ${record.consistency?.mismatches.join('; ') ?? ''}`] : []),
          ...rollbackFailures.map((f) => `Not rolled back: ${f}`),
          ...accounts,
        ].join('\n'),
      );
    }
    return {
      releaseId,
      status,
      error: status === 'FAILED' ? (record.failure?.error ?? 'ReleaseFailed') : '',
      cause: status === 'FAILED' ? `${record.failure?.cause ?? ''} | ${accounts.join('; ')}`.slice(0, 4000) : '',
    };
  },
});
