/**
 * EventBridge target for ECR's `ECR Image Action` (PUSH, SUCCESS) on the
 * repositories of services released by push. Maps the repository to its
 * service; a tag the service does not release is recorded and ignored; while
 * trading is halted the push is refused, recorded and paged. Otherwise it
 * records the push as the service's newest (a release waiting for a deploy
 * window is superseded by a newer one) and starts the release state machine
 * under `push-<service>-<first 40 hex of the digest>`: the same digest pushed
 * twice, or under two tags, starts one release.
 */
import * as z from 'zod';
import type { FleetService } from '../../lib/fleet/fleet';
import { ecrRepositoryName } from '../../lib/naming';
import { writeAuditRecord } from '../shared/domain/audit';
import { ecrImageActionSchema, untrustedEventReason } from '../shared/domain/aws-events';
import { startNamedExecution } from '../shared/domain/executions';
import { claimOnce, holdingClaims } from '../shared/domain/guard-rails';
import { readHaltFlag } from '../shared/domain/halt-flag';
import { page } from '../shared/domain/paging';
import { pushExecutionName, recordLatestPush } from '../shared/domain/release';
import { defineHandler, describeIssues } from '../shared/runtime/handler';

export type PushDecision = 'started' | 'duplicate' | 'ignored' | 'refused';

export interface PushResult {
  readonly eventId: string;
  readonly decision: PushDecision;
  readonly why: string;
  readonly service?: string;
  readonly executionArn?: string;
}

const AUDIT_ACTIONS: Readonly<Record<PushDecision, string>> = {
  started: 'release.push-received',
  duplicate: 'release.push-ignored',
  ignored: 'release.push-ignored',
  refused: 'release.push-refused',
};

/** The service whose repository is `repositoryName`, if a push releases it. */
export function pushedService(services: readonly FleetService[], repositoryName: string): FleetService | undefined {
  return services.find((s) => s.release.trigger === 'push' && ecrRepositoryName(s.imageRepository) === repositoryName);
}

/** Whether the service releases this tag: its `release.tags` pattern matches the whole tag. */
export const releasesTag = (service: FleetService, tag: string | undefined): boolean =>
  tag !== undefined && new RegExp(`^(?:${service.release.tags})$`).test(tag);

export const startReleaseFromPush = defineHandler({
  name: 'start-release-from-push',
  description: 'Starts a release of the pushed digest when ECR reports a push of a service released by push',
  clients: ['dynamodb', 'sfn', 'ssm', 'sns'],
  input: z.unknown(),
  core: async (raw, deps): Promise<PushResult> => {
    const rawId = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : 'unknown';
    const decide = async (result: PushResult, details: Readonly<Record<string, unknown>> = {}): Promise<PushResult> => {
      deps.logger.info('ECR push handled', { ...result });
      await writeAuditRecord(deps, {
        action: AUDIT_ACTIONS[result.decision],
        subject: result.service ?? 'fleet',
        actor: typeof details.repository === 'string' ? `ecr-push/${details.repository}` : 'ecr',
        source: `eventbridge:${result.eventId}`,
        executionId: result.executionArn ?? `event:${result.eventId}`,
        reason: result.why,
        phase: 'outcome',
        status: result.decision === 'refused' ? 'failed' : 'succeeded',
        at: new Date().toISOString(),
        after: { decision: result.decision, ...details },
      });
      return result;
    };

    const parsed = ecrImageActionSchema.safeParse(raw);
    if (!parsed.success) return decide({ eventId: rawId, decision: 'ignored', why: `not an ECR Image Action event: ${describeIssues(parsed.error)}` });
    const event = parsed.data;
    const { detail } = event;
    const base = { eventId: event.id };
    if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS') {
      return decide({ ...base, decision: 'ignored', why: `${detail['action-type']} ${detail.result}, not a successful push` });
    }
    const untrusted = untrustedEventReason(event, { ...deps.config, maxEventAgeSeconds: deps.fleet.guardRails.maxEventAgeSeconds });
    if (untrusted) return decide({ ...base, decision: 'refused', why: untrusted });
    const repository = detail['repository-name'];
    const digest = detail['image-digest'];
    const tag = detail['image-tag'];
    const facts = { repository, digest, ...(tag === undefined ? {} : { tag }) };
    const service = pushedService(Object.values(deps.fleet.services), repository);
    if (!service) return decide({ ...base, decision: 'ignored', why: `${repository} is not the repository of a service released by push` }, facts);
    const about = { ...base, service: service.id };
    if (!releasesTag(service, tag)) {
      return decide(
        { ...about, decision: 'ignored', why: `tag ${tag ?? '(none)'} does not match ${service.id}'s release tags ${service.release.tags}` },
        facts,
      );
    }

    // The newest push of the service, so that a release still waiting for a window can tell it was superseded.
    await recordLatestPush(deps, service.id, { digest, pushedAt: event.time, ...(tag === undefined ? {} : { tag }), eventId: event.id });

    const halt = await readHaltFlag(deps);
    if (!halt.readable || halt.flag.halted) {
      const why = halt.readable
        ? `trading is halted (${halt.flag.reason ?? halt.flag.haltId ?? 'no reason recorded'}): ${repository}:${tag ?? ''} is not released`
        : `the halt flag cannot be read (${halt.problem}): ${repository}:${tag ?? ''} is not released`;
      // One page per event: a redelivery is recorded only (a failed page is given back for the retry).
      const paged = await claimOnce(deps, `page#${event.id}`, event.id, { service: service.id }, 1);
      const message = `${why}\nDigest: ${digest}\nRelease it after resuming, with a manifest.`;
      if (paged)
        await holdingClaims(
          [paged],
          () => page(deps, `Push of ${service.id} refused while trading is halted`, message),
          () => undefined,
        );
      return decide({ ...about, decision: 'refused', why }, facts);
    }

    const name = pushExecutionName(service.id, digest);
    const claim = await claimOnce(deps, `release-push#${name}`, event.id, { service: service.id, digest }, 90);
    if (!claim) return decide({ ...about, decision: 'duplicate', why: `${digest} of ${service.id} already started release ${name}` }, facts);
    const image = `${service.imageRepository}@${digest}`;
    const input = {
      services: { [service.id]: image },
      requestedBy: `ecr-push/${repository}`,
      reason: `push of ${repository}:${tag ?? ''} (${digest})`,
      source: { type: 'push', repository, ...(tag === undefined ? {} : { tag }), digest },
    };
    let started: Awaited<ReturnType<typeof startNamedExecution>>;
    try {
      started = await startNamedExecution(deps, deps.config.stateMachineArns.release, name, input);
    } catch (error) {
      // Given back so EventBridge's retry of this event is not refused by its own claim.
      await claim.release();
      throw error;
    }
    if (!started) return decide({ ...about, decision: 'duplicate', why: `release ${name} of ${digest} already exists` }, facts);
    return decide({ ...about, decision: 'started', why: `releasing ${image}`, executionArn: started.executionArn }, facts);
  },
});
