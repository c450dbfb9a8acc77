/**
 * What the CLI's release commands need from the rest of Assure, in one place:
 * the release workflow's name, the sandbox's push and traffic API, the release
 * record in the state table and the release-approval decision function. Each
 * is read here and nowhere else in lib/cli.
 */
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { Sandbox } from '../sandbox/sandbox';
import type { ImageBehaviour } from '../sandbox/simulated-workloads';

/**
 * The release workflow's registry name. Typed as a plain string so lib/cli
 * compiles before 'release' joins WorkflowName (TODO(lead): once it has, type
 * this `WorkflowName`).
 */
export const RELEASE_WORKFLOW: string = 'release';

/** The deploy workflow's standalone function that records a release approver's decision. */
export const DECIDE_RELEASE_APPROVAL = { workflow: 'deploy', key: 'DecideReleaseApproval' } as const;

/** The error the release workflow ends with when it refuses its input as invalid (exit 2, not 1). */
export const INVALID_RELEASE_REQUEST_ERROR = 'InvalidReleaseRequestError';

/** One revision behind a progressive service's target groups, as `sandbox.traffic(serviceId)` reports it. */
export interface TrafficRevision {
  readonly serviceRevisionArn: string;
  readonly taskDefinitionArn: string;
  readonly image: string;
  readonly targetGroupArn: string;
  /** Share of production traffic, 0..100. */
  readonly productionWeight: number;
  /** Share of test traffic, 0..100. */
  readonly testWeight: number;
}

export interface TrafficSnapshot {
  readonly revisions: readonly TrafficRevision[];
  readonly at?: number | string;
}

export interface PushResult {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  /** `<repository URI>@sha256:<hex>`. */
  readonly image: string;
}

/** The sandbox's release API (contract: "Sandbox API additions"). */
export interface SandboxReleaseApi {
  /** `digest`: tag an image already pushed again (the same digest under another tag) instead of pushing a new one. */
  push(ref: string, options?: { behaviour?: ImageBehaviour; digest?: string }): PushResult | Promise<PushResult>;
  traffic(serviceId: string): TrafficSnapshot | undefined;
  /** Called on every weight change; what it passes is not relied on (the CLI reads traffic() again). */
  /** May return an unsubscribe function (anything else is ignored: the CLI then ignores later calls itself). */
  onTrafficChange(listener: () => void): unknown;
}

/** A sandbox without the release API yet (a branch built before it was merged). */
export class ReleaseApiMissingError extends Error {
  override readonly name = 'ReleaseApiMissingError';
}

/**
 * The sandbox's push and traffic API. TODO(lead): once the sandbox has push,
 * traffic and onTrafficChange, return `sandbox` itself and drop the check.
 */
export function releaseApi(sandbox: Sandbox): SandboxReleaseApi {
  const candidate = sandbox as unknown as Partial<Record<keyof SandboxReleaseApi, unknown>>;
  for (const method of ['push', 'traffic', 'onTrafficChange'] as const) {
    if (typeof candidate[method] !== 'function') throw new ReleaseApiMissingError(`This sandbox has no ${method}(): releases need the sandbox's release API`);
  }
  return sandbox as unknown as SandboxReleaseApi;
}

export const releaseKey = (releaseId: string): string => `release#${releaseId}`;
export const approvalKey = (approvalId: string): string => `approval#${approvalId}`;

export const ACCOUNT_STATUSES = ['PENDING', 'RELEASED', 'FAILED', 'ROLLED_BACK', 'SKIPPED'] as const;

/** One service's line of a release's account. */
export const serviceAccountSchema = z.looseObject({
  service: z.string(),
  image: z.string(),
  digest: z.string().optional(),
  tag: z.string().optional(),
  previousTaskDefinitionArn: z.string().optional(),
  previousImage: z.string().optional(),
  taskDefinitionArn: z.string().optional(),
  deployExecutionArn: z.string().optional(),
  status: z.string(),
  reason: z.string().optional(),
});
export type ServiceAccount = z.output<typeof serviceAccountSchema>;

/** A service's revision: its task definition and the image it runs. */
const revisionSchema = z.looseObject({ taskDefinitionArn: z.string(), image: z.string().optional() });
export type FleetRevision = z.output<typeof revisionSchema>;

/**
 * The release record (`release#<id>` in the state table): status, who and why,
 * waves, the per-service account (`services`, keyed by service), the fleet's
 * revisions before and after (`fleetBefore`, `fleetAfter`), the consistency
 * proof and the failure. Read loosely: attributes the CLI does not show are kept as they are.
 */
export const releaseRecordSchema = z.looseObject({
  pk: z.string(),
  releaseId: z.string().optional(),
  kind: z.string().optional(),
  status: z.string(),
  requestedBy: z.string().optional(),
  reason: z.string().optional(),
  rollbackOf: z.string().optional(),
  source: z.looseObject({ type: z.string().optional(), repository: z.string().optional(), tag: z.string().optional() }).optional(),
  waves: z.array(z.array(z.string())).default([]),
  services: z
    .union([z.array(serviceAccountSchema), z.record(z.string(), serviceAccountSchema)])
    .transform((s) => (Array.isArray(s) ? s : Object.values(s)))
    .default([]),
  fleetBefore: z.record(z.string(), revisionSchema).optional(),
  fleetAfter: z.record(z.string(), revisionSchema).optional(),
  /** A release waiting for the next deploy window starts then. */
  waitUntil: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  consistency: z.looseObject({ proven: z.boolean(), tasks: z.number().optional(), mismatches: z.array(z.string()).default([]) }).optional(),
  failure: z.looseObject({ error: z.string(), cause: z.string().optional() }).optional(),
});
export type ReleaseRecord = z.output<typeof releaseRecordSchema> & { readonly id: string };

function toReleaseRecord(item: Record<string, unknown>): ReleaseRecord {
  const parsed = releaseRecordSchema.parse(item);
  return { ...parsed, id: parsed.releaseId ?? parsed.pk.slice('release#'.length) };
}

async function stateItem(sandbox: Sandbox, pk: string): Promise<Record<string, unknown> | undefined> {
  const result = await sandbox.clients.dynamodb.send(
    new GetItemCommand({ TableName: sandbox.config.stateTableName, Key: marshall({ pk }), ConsistentRead: true }),
  );
  return result.Item ? unmarshall(result.Item) : undefined;
}

export async function readRelease(sandbox: Sandbox, releaseId: string): Promise<ReleaseRecord | undefined> {
  const item = await stateItem(sandbox, releaseKey(releaseId));
  return item ? toReleaseRecord(item) : undefined;
}

/** Every release record, newest first (a Scan: the state table has no index by kind). */
export async function listReleases(sandbox: Sandbox, limit: number): Promise<ReleaseRecord[]> {
  const records: ReleaseRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await sandbox.clients.dynamodb.send(
      new ScanCommand({
        TableName: sandbox.config.stateTableName,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: marshall({ ':prefix': 'release#' }),
        ...(startKey ? { ExclusiveStartKey: marshall(startKey) } : {}),
      }),
    );
    for (const item of page.Items ?? []) records.push(toReleaseRecord(unmarshall(item)));
    startKey = page.LastEvaluatedKey ? unmarshall(page.LastEvaluatedKey) : undefined;
  } while (startKey);
  return records.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '')).slice(0, limit);
}

/** An approval of the state table (`approval#<id>`): a release's (written by the deployment hook, `kind: release`) or a resume's. */
export interface StoredApproval {
  readonly id: string;
  /** `release` for a release approval; resumes' approvals have none. */
  readonly kind?: string;
  readonly status: string;
  readonly requestedBy?: string;
  readonly approvers?: readonly string[];
  readonly deadline?: string;
  /** The release it holds, when the deployment is part of one. */
  readonly releaseId?: string;
  /** The deploy execution (ARN) whose deployment the hook holds. */
  readonly deployExecutionId?: string;
}

export async function readApproval(sandbox: Sandbox, approvalId: string): Promise<StoredApproval | undefined> {
  const item = await stateItem(sandbox, approvalKey(approvalId));
  if (!item) return undefined;
  const text = (key: string): Record<string, string> => (typeof item[key] === 'string' ? { [key]: item[key] } : {});
  return {
    id: approvalId,
    status: String(item.status ?? 'UNKNOWN'),
    ...text('kind'),
    ...text('releaseId'),
    ...text('deployExecutionId'),
    ...(typeof item.requestedBy === 'string' ? { requestedBy: item.requestedBy } : {}),
    ...(Array.isArray(item.approvers) ? { approvers: item.approvers.map(String) } : {}),
    ...(typeof item.deadline === 'string' ? { deadline: item.deadline } : {}),
  };
}

/** The execution ARN of a workflow's execution by name (Step Functions builds it from the state machine's). */
export function executionArnOf(sandbox: Sandbox, workflow: string, name: string): string | undefined {
  const machine = sandbox.stateMachines[workflow];
  return machine ? `${machine.replace(':stateMachine:', ':execution:')}:${name}` : undefined;
}
