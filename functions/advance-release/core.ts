/**
 * The release's wave loop: records the outcome of the wave that just ran (each
 * service RELEASED, with the revision it now runs, or FAILED, with why) and
 * picks the next wave. A failed service ends the loop: nothing new starts, and
 * the state machine rolls back what was released.
 */
import * as z from 'zod';
import { fleetService } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { currentRevision, releaseSubject, requireRelease, writeRelease } from '../shared/domain/release';
import { defineHandler } from '../shared/runtime/handler';

/** One service's outcome in a wave, as the Map over the wave reports it. */
export const waveResultSchema = z.object({
  service: z.string(),
  status: z.enum(['RELEASED', 'FAILED']),
  executionArn: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});

/** What the deploy state machine is started with, per service. */
export interface DeployInput {
  readonly service: string;
  readonly image: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly releaseId: string;
}

export interface NextWave {
  /** Every wave is released. */
  readonly done: boolean;
  /** A service of the last wave failed: roll back. */
  readonly failed: boolean;
  readonly index: number;
  readonly deploys: readonly DeployInput[];
}

/** The deploy execution that failed names the error of its Fail state in the cause (`.sync:2` passes the child's DescribeExecution). */
function failureReason(result: z.output<typeof waveResultSchema>): string {
  let cause = result.cause ?? '';
  try {
    const described = JSON.parse(cause) as { Error?: unknown; Cause?: unknown };
    if (typeof described.Error === 'string') cause = `${described.Error}: ${typeof described.Cause === 'string' ? described.Cause : ''}`;
  } catch {
    // Not the child's description: the cause as it is.
  }
  return `${result.error ?? 'failed'}${cause ? ` (${cause})` : ''}`.slice(0, 1000);
}

export const advanceRelease = defineHandler({
  name: 'advance-release',
  description: "Records a release wave's per-service outcomes and picks the next wave",
  clients: ['dynamodb', 'ecs'],
  input: z.object({ executionId: executionIdSchema, releaseId: z.string().min(1), results: z.array(waveResultSchema).nullable() }),
  core: async ({ executionId, releaseId, results }, deps): Promise<NextWave> => {
    const record = await requireRelease(deps, releaseId);
    let failed = false;
    if (results !== null) {
      for (const result of results) {
        const account = record.services[result.service];
        const service = fleetService(deps.fleet, result.service);
        if (!account || !service) continue;
        if (result.executionArn) account.deployExecutionArn = result.executionArn;
        if (result.status === 'RELEASED') {
          account.status = 'RELEASED';
          account.taskDefinitionArn = (await currentRevision(deps, deps.fleet, service)).taskDefinitionArn;
        } else {
          failed = true;
          account.status = 'FAILED';
          account.reason = failureReason(result);
        }
      }
      const index = record.wavesDone;
      record.wavesDone += 1;
      if (failed) {
        record.status = 'ROLLING_BACK';
        const failures = results.filter((r) => r.status === 'FAILED').map((r) => `${r.service}: ${record.services[r.service]?.reason ?? 'failed'}`);
        record.failure = { error: 'ServiceReleaseFailed', cause: failures.join('; ').slice(0, 2000) };
      }
      await writeRelease(deps, record);
      await writeAuditRecord(deps, {
        action: 'release.wave',
        subject: releaseSubject(releaseId),
        actor: record.requestedBy,
        source: 'step-functions',
        executionId,
        phase: 'outcome',
        status: failed ? 'failed' : 'succeeded',
        at: new Date().toISOString(),
        after: { wave: index + 1, of: record.waves.length, services: results.map((r) => `${r.service} ${r.status}`) },
      });
      if (failed) return { done: false, failed: true, index, deploys: [] };
    }
    if (record.status === 'WAITING') {
      record.status = 'RUNNING';
      await writeRelease(deps, record);
    }
    const index = record.wavesDone;
    const wave = record.waves[index];
    if (!wave) return { done: true, failed: false, index, deploys: [] };
    const reason = `release ${releaseId}: ${record.reason}`.slice(0, 500);
    return {
      done: false,
      failed: false,
      index,
      deploys: wave.map((service) => ({ service, image: record.services[service]?.image ?? '', requestedBy: record.requestedBy, reason, releaseId })),
    };
  },
});
