/**
 * First state of the release workflow: validates the manifest (or the fleet
 * rollback request), records the fleet's revisions before it, computes the
 * waves from `dependsOn`, decides whether it must wait for a deploy window,
 * and writes the release record `release#<id>` (the id is the execution name).
 */
import * as z from 'zod';
import { fleetService } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { describeWindows, nextWindowStart } from '../shared/domain/deploy-window';
import { executionName } from '../shared/domain/executions';
import { readHaltFlag } from '../shared/domain/halt-flag';
import {
  currentRevision,
  type FleetRevision,
  readRelease,
  type ReleaseRecord,
  releaseSourceSchema,
  releaseSubject,
  releaseWaves,
  type ServiceAccount,
  splitDigestImage,
  writeRelease,
} from '../shared/domain/release';
import { requestValidation, type RequestValidation } from '../shared/domain/request-validation';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';

/** The documented input of the release state machine: a manifest of services and the digests to release. */
export const releaseRequestSchema = z.strictObject({
  services: z.record(z.string(), z.string().min(1).max(512)).refine((s) => Object.keys(s).length > 0, 'must name at least one service'),
  requestedBy: z.string().min(1, 'is required').max(128),
  reason: z.string().min(1, 'is required').max(500),
  source: releaseSourceSchema.optional(),
  /** The release id is the execution's name; when given, it must be that name. */
  releaseId: z.string().min(1).max(80).optional(),
});
export type ReleaseRequest = z.output<typeof releaseRequestSchema>;

/** A fleet rollback: every service of an earlier release back to its revision before that release. */
export const fleetRollbackRequestSchema = z.strictObject({
  rollbackOf: z.string().min(1, 'is required').max(80),
  requestedBy: z.string().min(1, 'is required').max(128),
  reason: z.string().min(1, 'is required').max(500),
});

/** What the state machine carries from here on. */
export interface ReleaseState {
  readonly release: {
    readonly id: string;
    readonly kind: 'release' | 'rollback';
    /** When a deploy window opens, if the release must wait for it. */
    readonly waitUntil: string | null;
    readonly maxParallelDeploys: number;
  };
  readonly newest: null;
  /** The wave loop's slot: the results of the wave that just ran (none yet). */
  readonly wave: { readonly results: null };
  /** The rollback's slot: the services to roll back and their outcomes (none yet). */
  readonly rollbacks: { readonly services: readonly never[]; readonly results: null };
  readonly proof: null;
  readonly failure: null;
}

type Deps = HandlerDeps<'dynamodb' | 'ecs' | 'ssm'>;

export const planRelease = defineHandler({
  name: 'plan-release',
  description: 'Validates a release manifest or fleet rollback, computes its waves and window wait, and records the release',
  clients: ['dynamodb', 'ecs', 'ssm'],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ executionId, request }, deps): Promise<ReleaseState> => {
    const validation = requestValidation(deps, 'release', { executionId, request });
    const releaseId = executionName(executionId);
    const isRollback = typeof request === 'object' && request !== null && 'rollbackOf' in request;
    const record = isRollback
      ? await planFleetRollback(deps, validation, executionId, releaseId, await validation.parse(fleetRollbackRequestSchema))
      : await planManifest(deps, validation, executionId, releaseId, await validation.parse(releaseRequestSchema));
    await writeRelease(deps, record);
    await writeAuditRecord(deps, {
      action: 'release.started',
      subject: releaseSubject(releaseId),
      actor: record.requestedBy,
      source: record.source?.type ?? (isRollback ? 'fleet-rollback' : 'manifest'),
      executionId,
      reason: record.reason,
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      before: { fleet: record.fleetBefore },
      after: { kind: record.kind, waves: record.waves, services: Object.values(record.services).map((s) => `${s.service} ${s.status} ${s.image}`) },
    });
    return {
      release: { id: releaseId, kind: record.kind, waitUntil: record.waitUntil ?? null, maxParallelDeploys: deps.fleet.release.maxParallelDeploys },
      newest: null,
      wave: { results: null },
      rollbacks: { services: [], results: null },
      proof: null,
      failure: null,
    };
  },
});

async function planManifest(
  deps: Deps,
  validation: RequestValidation,
  executionId: string,
  releaseId: string,
  request: ReleaseRequest,
): Promise<ReleaseRecord> {
  if (request.releaseId !== undefined && request.releaseId !== releaseId) {
    return validation.refuse({ field: 'releaseId', reason: `must be the execution's name ${releaseId}, got ${request.releaseId}` });
  }
  const services: Record<string, ServiceAccount> = {};
  const fleetBefore: Record<string, FleetRevision> = {};
  for (const [id, image] of Object.entries(request.services)) {
    const service = fleetService(deps.fleet, id);
    if (!service) {
      return validation.refuse({
        field: `services.${id}`,
        reason: `${id} is not in the ${deps.fleet.environment} fleet (known: ${Object.keys(deps.fleet.services).join(', ')})`,
      });
    }
    const pinned = splitDigestImage(image);
    if (!pinned || pinned.repository !== service.imageRepository) {
      return validation.refuse({
        subject: id,
        field: `services.${id}`,
        reason: `must be ${service.imageRepository}@sha256:<64 hex> (a digest, never a tag), got ${image}`,
      });
    }
    const before = await currentRevision(deps, deps.fleet, service);
    fleetBefore[id] = before;
    const tag = request.source?.type === 'push' && Object.keys(request.services).length === 1 ? request.source.tag : undefined;
    services[id] = {
      service: id,
      image,
      digest: pinned.digest,
      ...(tag ? { tag } : {}),
      previousTaskDefinitionArn: before.taskDefinitionArn,
      previousImage: before.image,
      ...(before.image === image ? { status: 'SKIPPED' as const, reason: `already runs ${image}` } : { status: 'PENDING' as const }),
    };
  }
  const halt = await readHaltFlag(deps);
  if (!halt.readable) return validation.refuse({ reason: `the halt flag cannot be read (${halt.problem}): no release until it can` });
  if (halt.flag.halted)
    return validation.refuse({ reason: `trading is halted (${halt.flag.reason ?? halt.flag.haltId ?? 'no reason recorded'}): no release until it is resumed` });

  const now = new Date();
  const maxWaitMs = deps.fleet.release.maxWindowWaitHours * 3_600_000;
  const windows = deps.fleet.deploy.windows;
  const opens = nextWindowStart(windows, now, maxWaitMs);
  if (!opens) {
    return validation.refuse({
      reason: `no deploy window opens within ${deps.fleet.release.maxWindowWaitHours} hours (windows: ${describeWindows(windows ?? [])})`,
    });
  }
  const waitUntil = opens.getTime() > now.getTime() ? opens.toISOString() : undefined;
  const toRelease = Object.values(services)
    .filter((s) => s.status === 'PENDING')
    .map((s) => s.service);
  return {
    releaseId,
    executionArn: executionId,
    kind: 'release',
    status: waitUntil ? 'WAITING' : 'RUNNING',
    requestedBy: request.requestedBy,
    reason: request.reason,
    ...(request.source ? { source: request.source } : {}),
    waves: releaseWaves(deps.fleet, toRelease),
    wavesDone: 0,
    services,
    fleetBefore,
    ...(waitUntil ? { waitUntil } : {}),
    startedAt: now.toISOString(),
  };
}

async function planFleetRollback(
  deps: Deps,
  validation: RequestValidation,
  executionId: string,
  releaseId: string,
  request: z.output<typeof fleetRollbackRequestSchema>,
): Promise<ReleaseRecord> {
  const original = await readRelease(deps, request.rollbackOf);
  if (!original) return validation.refuse({ field: 'rollbackOf', reason: `there is no release ${request.rollbackOf}` });
  if (original.status === 'WAITING' || original.status === 'RUNNING' || original.status === 'ROLLING_BACK') {
    return validation.refuse({ field: 'rollbackOf', reason: `release ${request.rollbackOf} is still ${original.status}` });
  }
  const services: Record<string, ServiceAccount> = {};
  const fleetBefore: Record<string, FleetRevision> = {};
  for (const account of Object.values(original.services)) {
    const service = fleetService(deps.fleet, account.service);
    if (!service || account.status === 'SKIPPED') continue;
    const before = await currentRevision(deps, deps.fleet, service);
    fleetBefore[account.service] = before;
    const alreadyThere = before.taskDefinitionArn === account.previousTaskDefinitionArn;
    services[account.service] = {
      service: account.service,
      image: account.previousImage,
      digest: splitDigestImage(account.previousImage)?.digest ?? '',
      previousTaskDefinitionArn: before.taskDefinitionArn,
      previousImage: before.image,
      taskDefinitionArn: account.previousTaskDefinitionArn,
      ...(alreadyThere
        ? { status: 'SKIPPED' as const, reason: `already runs ${account.previousTaskDefinitionArn.split('/').pop() ?? ''}` }
        : { status: 'PENDING' as const }),
    };
  }
  if (Object.keys(services).length === 0) return validation.refuse({ field: 'rollbackOf', reason: `release ${request.rollbackOf} changed no service` });
  return {
    releaseId,
    executionArn: executionId,
    kind: 'rollback',
    rollbackOf: request.rollbackOf,
    status: 'ROLLING_BACK',
    requestedBy: request.requestedBy,
    reason: request.reason,
    waves: original.waves.map((wave) => wave.filter((id) => services[id] !== undefined)).filter((wave) => wave.length > 0),
    wavesDone: 0,
    services,
    fleetBefore,
    startedAt: new Date().toISOString(),
  };
}
