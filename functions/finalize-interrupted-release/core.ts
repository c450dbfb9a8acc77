/**
 * EventBridge target for `Step Functions Execution Status Change` of the
 * release state machine. A release stopped from outside, or timed out, cannot
 * record its own end (its nested deploys and rollbacks are stopped with it):
 * this records it FAILED in `release#<id>` and the audit trail, and pages, as
 * its services may be left part-way.
 */
import { fleetService } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { page } from '../shared/domain/paging';
import { currentRevision, type FleetRevision, readRelease, releaseSubject, writeRelease } from '../shared/domain/release';
import { defineHandler } from '../shared/runtime/handler';
import { stepFunctionsStatusChangeSchema } from '../finalize-interrupted-deploy/core';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'SUPERSEDED']);

export const finalizeInterruptedRelease = defineHandler({
  name: 'finalize-interrupted-release',
  description: 'Records a release stopped from outside (or timed out) as FAILED and pages',
  clients: ['dynamodb', 'ecs', 'sns'],
  input: stepFunctionsStatusChangeSchema,
  core: async ({ detail }, deps): Promise<{ executionArn: string; action: 'none' | 'recorded' }> => {
    const none = { executionArn: detail.executionArn, action: 'none' as const };
    if (detail.stateMachineArn !== deps.config.stateMachineArns.release || !['ABORTED', 'TIMED_OUT', 'FAILED'].includes(detail.status)) return none;
    const record = await readRelease(deps, detail.name);
    // Refused before it was planned, or it recorded its own end.
    if (!record || TERMINAL.has(record.status)) return none;
    const fleetAfter: Record<string, FleetRevision> = {};
    for (const id of Object.keys(record.services)) {
      const service = fleetService(deps.fleet, id);
      if (service) fleetAfter[id] = await currentRevision(deps, deps.fleet, service);
    }
    record.status = 'FAILED';
    record.finishedAt = new Date().toISOString();
    record.fleetAfter = fleetAfter;
    record.failure = {
      error: detail.error ?? `Execution${detail.status}`,
      cause: `the release execution ended ${detail.status}${detail.cause ? `: ${detail.cause}` : ''}`.slice(0, 2000),
    };
    await writeRelease(deps, record);
    await writeAuditRecord(deps, {
      action: 'release.finished',
      subject: releaseSubject(record.releaseId),
      actor: 'assure',
      source: 'eventbridge',
      executionId: detail.executionArn,
      reason: record.failure.cause,
      phase: 'outcome',
      status: 'failed',
      at: record.finishedAt,
      before: { fleet: record.fleetBefore },
      after: { status: 'FAILED', services: Object.values(record.services).map((s) => `${s.service} ${s.status}`), fleet: fleetAfter },
    });
    await page(
      deps,
      `Release ${record.releaseId} ended ${detail.status}`,
      [
        `Release ${record.releaseId} (${record.reason}) ended ${detail.status} before it finished; its services may be part-way.`,
        ...Object.values(record.services).map(
          (s) => `${s.service}: ${s.status}, now ${fleetAfter[s.service]?.taskDefinitionArn.split('/').pop() ?? 'unknown'}`,
        ),
        `Return them with a fleet rollback: {"rollbackOf": "${record.releaseId}"}.`,
      ].join('\n'),
    );
    return { executionArn: detail.executionArn, action: 'recorded' };
  },
});
