/**
 * What a failed release (or a fleet rollback) returns, and in which order: the
 * services already RELEASED (a fleet rollback: every service not already back),
 * in reverse dependency order, each to its revision before the release.
 */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { releaseSubject, requireRelease, reverseDependencyOrder, revisionNumber, writeRelease } from '../shared/domain/release';
import { defineHandler } from '../shared/runtime/handler';

/** The rollback state machine's input for one service: back to a named task-definition revision. */
export interface RollbackInput {
  readonly service: string;
  readonly targetRevision: number;
  readonly requestedBy: string;
  readonly reason: string;
  readonly source: string;
}

export const planReleaseRollback = defineHandler({
  name: 'plan-release-rollback',
  description: 'Lists the services a failed release (or a fleet rollback) returns to their previous revisions, in reverse dependency order',
  clients: ['dynamodb'],
  input: z.object({ executionId: executionIdSchema, releaseId: z.string().min(1) }),
  core: async ({ executionId, releaseId }, deps): Promise<{ services: RollbackInput[] }> => {
    const record = await requireRelease(deps, releaseId);
    const wanted = record.kind === 'rollback' ? 'PENDING' : 'RELEASED';
    const order = reverseDependencyOrder(record.waves, (service) => record.services[service]?.status === wanted);
    const reason =
      record.kind === 'rollback'
        ? `fleet rollback ${releaseId} of release ${record.rollbackOf ?? ''}: ${record.reason}`
        : `release ${releaseId} failed: ${record.failure?.cause ?? record.failure?.error ?? 'a service failed'}`;
    const services = order.map((service) => {
      const account = record.services[service];
      const target = record.kind === 'rollback' ? (account?.taskDefinitionArn ?? '') : (account?.previousTaskDefinitionArn ?? '');
      return { service, targetRevision: revisionNumber(target), requestedBy: record.requestedBy, reason: reason.slice(0, 500), source: `release:${releaseId}` };
    });
    record.status = 'ROLLING_BACK';
    await writeRelease(deps, record);
    await writeAuditRecord(deps, {
      action: 'release.rollback',
      subject: releaseSubject(releaseId),
      actor: record.requestedBy,
      source: 'step-functions',
      executionId,
      reason,
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      after: { order: services.map((s) => `${s.service} → revision ${s.targetRevision}`) },
    });
    return { services };
  },
});
