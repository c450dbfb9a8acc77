/**
 * `assure sandbox push`: an image pushed to a fleet repository as ECR does it
 * (a new digest, the `ECR Image Action` event on the simulated bus), then the
 * release the push handler starts, followed to its end.
 */
import { InvalidArgumentError } from 'commander';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import type { Fleet } from '../fleet/fleet';
import type { Sandbox } from '../sandbox/sandbox';
import type { EcrPush } from '../sandbox/simulated-ecr';
import type { ImageBehaviour } from '../sandbox/simulated-workloads';
import { EXIT, type ExitCode } from './exit-codes';
import type { Output } from './output';
import { RELEASE_WORKFLOW } from './release-contract';
import { finishRelease, followReleaseActivity, releaseExitCode, type ReleaseRun } from './release-run';

/** An image digest, for a push that tags an image already pushed again. */
export const PUSH_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** ECR's image tag rule. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Checks `<repository>:<tag>` (repository URI or name) names a fleet repository and a valid tag; returns the service it belongs to. */
export function checkPushRef(ref: string, fleet: Fleet): string {
  const at = ref.lastIndexOf(':');
  const repository = at > 0 ? ref.slice(0, at) : '';
  const tag = at > 0 ? ref.slice(at + 1) : '';
  if (ref.includes('@') || repository === '' || tag.includes('/') || !TAG.test(tag)) {
    throw new InvalidArgumentError(`ref: must be <repository>:<tag> (a tag of letters, digits, _ . -, at most 128), got ${ref}`);
  }
  const service = Object.values(fleet.services).find((s) => s.imageRepository === repository || s.imageRepository.split('/').pop() === repository);
  if (!service) {
    const known = Object.values(fleet.services).map((s) => s.imageRepository.split('/').pop() ?? s.imageRepository);
    throw new InvalidArgumentError(`ref: ${repository} is not a repository of the ${fleet.environment} fleet (known: ${known.join(', ')})`);
  }
  return service.id;
}

/** What the push handler recorded about a push that started no release (ignored tag, manual trigger, refused while halted). */
export interface PushNote {
  readonly action: string;
  readonly status: string;
  readonly reason: string;
}

export interface PushReport {
  readonly pushed: EcrPush;
  readonly releases: readonly ReleaseRun[];
  readonly notes: readonly PushNote[];
}

/** Event delivery, the push handler and its StartExecution take about a second of virtual time; five is ample. */
const PUSH_ROUTING_MS = 5_000;

export async function pushAndFollow(
  sandbox: Sandbox,
  ref: string,
  options: { readonly behaviour?: ImageBehaviour; readonly digest?: string },
  output: Output,
  { quiet = false } = {},
): Promise<PushReport> {
  const { behaviour, digest } = options;
  const since = sandbox.clock.now();
  const releaseMachine = sandbox.stateMachines[RELEASE_WORKFLOW];
  const known = new Set(sandbox.stepFunctions.listExecutionRecords().map((e) => e.executionArn));
  const unfollow = quiet ? undefined : followReleaseActivity(sandbox, output, { since });
  try {
    const pushed = sandbox.push(ref, { ...(behaviour === undefined ? {} : { behaviour }), ...(digest === undefined ? {} : { digest }) });
    if (!quiet) output.line(`Pushed ${pushed.repository}:${pushed.tag} as ${pushed.digest}${behaviour ? ` (${behaviour})` : ''}`);
    await sandbox.clock.advance(PUSH_ROUTING_MS);
    const started = sandbox.stepFunctions.listExecutionRecords().filter((e) => e.stateMachineArn === releaseMachine && !known.has(e.executionArn));
    const releases: ReleaseRun[] = [];
    for (const execution of started) releases.push(await finishRelease(sandbox, execution.executionArn));
    const trail = await readAuditTrail(sandbox, { limit: 100 });
    const notes = trail
      .filter((r) => r.action.startsWith('release.push-') && r.action !== 'release.push-received' && Date.parse(r.at) >= since)
      .reverse()
      .map((r) => ({ action: r.action, status: r.status, reason: r.reason ?? r.error?.message ?? '' }));
    return { pushed, releases, notes };
  } finally {
    unfollow?.();
  }
}

/** failed when a release the push started failed, or the push was refused; ok otherwise (an ignored tag is what the fleet asks for). */
export function pushExitCode(report: PushReport): ExitCode {
  if (report.releases.some((r) => releaseExitCode(r) !== EXIT.ok)) return EXIT.failed;
  return report.notes.some((n) => n.action === 'release.push-refused') ? EXIT.failed : EXIT.ok;
}
