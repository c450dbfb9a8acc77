/**
 * The consistency proof after a release: every running task of every released
 * service runs the released digest (DescribeTasks: the container's
 * imageDigest, or the digest its image names). One task on another digest, or
 * a released service with no running task, and the release is not SUCCEEDED.
 */
import type { Task } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { fleetService } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { describeServiceTasks, taskId } from '../shared/domain/ecs-tasks';
import { releaseSubject, requireRelease, splitDigestImage, writeRelease } from '../shared/domain/release';
import { ReleaseInconsistentError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';

/** The digest a task's container runs: ECS's imageDigest, else the digest its image reference pins. */
export function runningDigest(task: Task, container: string): string | undefined {
  const c = task.containers?.find((x) => x.name === container);
  return c?.imageDigest ?? (c?.image ? splitDigestImage(c.image)?.digest : undefined);
}

export const proveReleaseConsistency = defineHandler({
  name: 'prove-release-consistency',
  description: 'Proves every running task of every released service runs the released digest',
  clients: ['dynamodb', 'ecs'],
  input: z.object({ executionId: executionIdSchema, releaseId: z.string().min(1) }),
  core: async ({ executionId, releaseId }, deps): Promise<{ proven: true; tasks: number }> => {
    const record = await requireRelease(deps, releaseId);
    const mismatches: string[] = [];
    let tasks = 0;
    for (const account of Object.values(record.services)) {
      const service = fleetService(deps.fleet, account.service);
      if (account.status !== 'RELEASED' || !service) continue;
      const running = await describeServiceTasks(deps, deps.fleet.cluster, service.ecsServiceName, 'RUNNING');
      if (running.length === 0 && service.capacity.desired > 0) mismatches.push(`${account.service}: no running task`);
      for (const task of running) {
        tasks += 1;
        const digest = runningDigest(task, service.container);
        if (digest !== account.digest)
          mismatches.push(`${account.service} task ${taskId(task)} runs ${digest ?? 'an image without a digest'}, not ${account.digest}`);
      }
    }
    record.consistency = { proven: mismatches.length === 0, tasks, mismatches };
    await writeRelease(deps, record);
    await writeAuditRecord(deps, {
      action: 'release.consistency-proof',
      subject: releaseSubject(releaseId),
      actor: record.requestedBy,
      source: 'step-functions',
      executionId,
      phase: 'outcome',
      status: mismatches.length === 0 ? 'succeeded' : 'failed',
      at: new Date().toISOString(),
      after: { tasks, mismatches },
    });
    if (mismatches.length > 0) throw new ReleaseInconsistentError(`Release ${releaseId} is not consistent: ${mismatches.join('; ')}`.slice(0, 2000));
    return { proven: true, tasks };
  },
});
