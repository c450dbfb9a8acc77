/**
 * Releases: one or several services deployed by digest, in waves computed from
 * `dependsOn`, rolled back in reverse dependency order. The release record
 * (`release#<id>` in the state table) is the per-service account the CLI and
 * a later fleet rollback read; `latest-push#<service>` holds the newest push of
 * each service, so a release waiting for a deploy window can be superseded.
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { Fleet, FleetService } from '../../../lib/fleet/fleet';
import type { HandlerDeps } from '../runtime/handler';

type StateDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config'>;

export const releaseKey = (releaseId: string): string => `release#${releaseId}`;
export const latestPushKey = (service: string): string => `latest-push#${service}`;
export const releaseSubject = (releaseId: string): string => `release/${releaseId}`;

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/** `<repository>@sha256:<64 hex>` split, or undefined when the image is not pinned to a digest. */
export function splitDigestImage(image: string): { repository: string; digest: string } | undefined {
  const at = image.indexOf('@');
  if (at < 0) return undefined;
  const digest = image.slice(at + 1);
  return DIGEST.test(digest) ? { repository: image.slice(0, at), digest } : undefined;
}

/** `push-<service>-<first 40 hex of the digest>`: the same digest, pushed twice or under two tags, names one execution. */
export function pushExecutionName(service: string, digest: string): string {
  const hex = DIGEST.exec(digest)?.[1] ?? digest.replace(/[^a-f0-9]/g, '');
  return `push-${service}-${hex.slice(0, 40)}`.slice(0, 80);
}

/**
 * Waves from `dependsOn`, restricted to the released services: every service
 * comes after the released services it depends on, as early as it can. Within
 * a wave, the fleet's deploy order.
 */
export function releaseWaves(fleet: Fleet, serviceIds: readonly string[]): string[][] {
  const included = new Set(serviceIds);
  const order = fleet.deployOrder.filter((id) => included.has(id));
  const level = new Map<string, number>();
  // deployOrder puts every dependency before its dependants, so one pass settles each level.
  for (const id of order) {
    const deps = (fleet.services[id]?.dependsOn ?? []).filter((d) => included.has(d));
    level.set(id, deps.length === 0 ? 0 : Math.max(...deps.map((d) => (level.get(d) ?? 0) + 1)));
  }
  const waves: string[][] = [];
  for (const id of order) {
    const index = level.get(id) ?? 0;
    (waves[index] ??= []).push(id);
  }
  return waves.filter((w) => w.length > 0);
}

/** The services of `waves` that `include` keeps, in reverse dependency order: last wave first, each wave back to front. */
export function reverseDependencyOrder(waves: readonly (readonly string[])[], include: (service: string) => boolean = () => true): string[] {
  return [...waves]
    .reverse()
    .flatMap((wave) => [...wave].reverse())
    .filter(include);
}

export const SERVICE_STATUSES = ['PENDING', 'RELEASED', 'FAILED', 'ROLLED_BACK', 'SKIPPED'] as const;
export type ServiceReleaseStatus = (typeof SERVICE_STATUSES)[number];

export const RELEASE_STATUSES = ['WAITING', 'RUNNING', 'ROLLING_BACK', 'SUCCEEDED', 'FAILED', 'SUPERSEDED'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export const revisionSchema = z.object({ taskDefinitionArn: z.string(), image: z.string() });
export type FleetRevision = z.output<typeof revisionSchema>;

/** One service's account in a release. */
export const serviceAccountSchema = z.object({
  service: z.string(),
  /** The image released (for a fleet rollback: the image returned to). */
  image: z.string(),
  digest: z.string(),
  tag: z.string().optional(),
  previousTaskDefinitionArn: z.string(),
  previousImage: z.string(),
  taskDefinitionArn: z.string().optional(),
  deployExecutionArn: z.string().optional(),
  rollbackExecutionArn: z.string().optional(),
  status: z.enum(SERVICE_STATUSES),
  reason: z.string().optional(),
});
export type ServiceAccount = z.output<typeof serviceAccountSchema>;

export const releaseSourceSchema = z.strictObject({
  type: z.enum(['push', 'manifest', 'console']),
  repository: z.string().min(1).max(256).optional(),
  tag: z.string().min(1).max(128).optional(),
  digest: z.string().regex(DIGEST, 'must be sha256:<64 hex>').optional(),
});
export type ReleaseSource = z.output<typeof releaseSourceSchema>;

export const releaseRecordSchema = z.object({
  releaseId: z.string(),
  executionArn: z.string(),
  /** `rollback`: a fleet rollback of an earlier release (`rollbackOf`). */
  kind: z.enum(['release', 'rollback']),
  rollbackOf: z.string().optional(),
  status: z.enum(RELEASE_STATUSES),
  requestedBy: z.string(),
  reason: z.string(),
  source: releaseSourceSchema.optional(),
  waves: z.array(z.array(z.string())),
  /** Waves recorded so far. */
  wavesDone: z.number().int().min(0),
  services: z.record(z.string(), serviceAccountSchema),
  fleetBefore: z.record(z.string(), revisionSchema),
  fleetAfter: z.record(z.string(), revisionSchema).optional(),
  waitUntil: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  consistency: z.object({ proven: z.boolean(), tasks: z.number().int(), mismatches: z.array(z.string()) }).optional(),
  failure: z.object({ error: z.string(), cause: z.string().optional() }).optional(),
});
export type ReleaseRecord = z.output<typeof releaseRecordSchema>;

export async function readRelease(deps: StateDeps, releaseId: string): Promise<ReleaseRecord | undefined> {
  const result = await deps.clients.dynamodb.send(
    new GetItemCommand({ TableName: deps.config.stateTableName, Key: marshall({ pk: releaseKey(releaseId) }), ConsistentRead: true }),
  );
  if (!result.Item) return undefined;
  const { pk: _pk, ...item } = unmarshall(result.Item);
  return releaseRecordSchema.parse(item);
}

/** Reads a release that must exist (a step of its own execution). */
export async function requireRelease(deps: StateDeps, releaseId: string): Promise<ReleaseRecord> {
  const record = await readRelease(deps, releaseId);
  if (!record) throw new Error(`No release record ${releaseKey(releaseId)}`);
  return record;
}

export async function writeRelease(deps: StateDeps, record: ReleaseRecord): Promise<void> {
  await deps.clients.dynamodb.send(
    new PutItemCommand({
      TableName: deps.config.stateTableName,
      Item: marshall({ pk: releaseKey(record.releaseId), ...record }, { removeUndefinedValues: true }),
    }),
  );
}

export const latestPushSchema = z.object({ digest: z.string(), pushedAt: z.string(), tag: z.string().optional(), eventId: z.string().optional() });
export type LatestPush = z.output<typeof latestPushSchema>;

export async function readLatestPush(deps: StateDeps, service: string): Promise<LatestPush | undefined> {
  const result = await deps.clients.dynamodb.send(
    new GetItemCommand({ TableName: deps.config.stateTableName, Key: marshall({ pk: latestPushKey(service) }), ConsistentRead: true }),
  );
  if (!result.Item) return undefined;
  const parsed = latestPushSchema.safeParse(unmarshall(result.Item));
  return parsed.success ? parsed.data : undefined;
}

/** Records a push as the service's newest, unless a push recorded already is newer (events arrive in any order). */
export async function recordLatestPush(deps: StateDeps, service: string, push: LatestPush): Promise<boolean> {
  try {
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({ pk: latestPushKey(service), service, ...push }, { removeUndefinedValues: true }),
        ConditionExpression: 'attribute_not_exists(pk) OR pushedAt <= :at',
        ExpressionAttributeValues: marshall({ ':at': push.pushedAt }),
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** The task definition the service's primary deployment runs, and that definition's image of the service's container. */
export async function currentRevision(deps: Pick<HandlerDeps<'ecs'>, 'clients'>, fleet: Fleet, service: FleetService): Promise<FleetRevision> {
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: fleet.cluster, services: [service.ecsServiceName] }));
  const ecsService = described.services?.[0];
  const taskDefinitionArn = ecsService?.deployments?.find((d) => d.status === 'PRIMARY')?.taskDefinition ?? ecsService?.taskDefinition;
  if (!taskDefinitionArn) throw new Error(`${service.ecsServiceName} has no task definition`);
  const definition = await deps.clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  const image = definition.taskDefinition?.containerDefinitions?.find((c) => c.name === service.container)?.image ?? '';
  return { taskDefinitionArn, image };
}

/** The revision number of a task definition ARN (`...:task-definition/<family>:<n>`). */
export function revisionNumber(taskDefinitionArn: string): number {
  return Number(taskDefinitionArn.split(':').pop());
}
