/**
 * Sandbox helpers for scenario tests: a fresh simulated account per test, and
 * small verbs (deploy, read the lock, read the audit trail) over its real APIs.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach } from 'vitest';
import { readAuditTrail, type AuditRecord } from '../../functions/shared/audit';
import { parseFleet, type Fleet } from '../../lib/fleet/fleet';
import { Sandbox } from '../../lib/sandbox/sandbox';
import type { ExecutionRecord } from '../../lib/sandbox/simulated-step-functions';
import type { ImageBehaviour } from '../../lib/sandbox/simulated-workloads';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { EXAMPLE_FLEET_FILE } from './handler-deps';

const open: Sandbox[] = [];

afterEach(() => {
  while (open.length > 0) open.pop()?.dispose();
});

/** The example fleet, optionally changed (e.g. a shorter progress deadline). */
export function fleetWith(change: (raw: Record<string, unknown>) => void = () => undefined): Fleet {
  const raw = parse(readFileSync(EXAMPLE_FLEET_FILE, 'utf8')) as Record<string, unknown>;
  change(raw);
  return parseFleet(raw, 'test fleet');
}

export async function openSandbox(fleet: Fleet = fleetWith()): Promise<Sandbox> {
  const sandbox = await Sandbox.open({ fleet });
  open.push(sandbox);
  return sandbox;
}

export const imageOf = (sandbox: Sandbox, service: string, tag: string): string =>
  `${sandbox.fleet.services[service]?.imageRepository ?? 'unknown'}:${tag}`;

export interface DeployOutcome {
  readonly record: ExecutionRecord;
  readonly executionArn: string;
}

export async function startDeploy(sandbox: Sandbox, service: string, tag: string, behaviour: ImageBehaviour = 'healthy', name?: string): Promise<string> {
  const image = imageOf(sandbox, service, tag);
  sandbox.images.set(image, behaviour);
  return sandbox.startExecution('deploy', { service, image, requestedBy: 'tester' }, name);
}

export async function deploy(sandbox: Sandbox, service: string, tag: string, behaviour: ImageBehaviour = 'healthy'): Promise<DeployOutcome> {
  const executionArn = await startDeploy(sandbox, service, tag, behaviour);
  return { executionArn, record: await sandbox.runExecution(executionArn) };
}

/** The names of the states an execution entered, in order. */
export const statesEntered = (record: ExecutionRecord): string[] =>
  record.history.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.stateName ?? '');

export async function lockItem(sandbox: Sandbox, service: string): Promise<Record<string, unknown> | undefined> {
  const result = await sandbox.clients.dynamodb.send(
    new GetItemCommand({ TableName: sandbox.config.lockTableName, Key: { pk: { S: `service#${service}` } }, ConsistentRead: true }),
  );
  return result.Item ? unmarshall(result.Item) : undefined;
}

export async function auditTrail(sandbox: Sandbox, subject: string): Promise<AuditRecord[]> {
  return readAuditTrail(sandbox, { subject, limit: 500 });
}

/** The task definition the service's primary deployment runs, and that deployment's rollout state. */
export function servicePrimary(sandbox: Sandbox, service: string): { taskDefinition: string; rolloutState: string; deployments: number } {
  const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[service]?.ecsServiceName ?? service);
  const primary = record?.deployments.find((d) => d.status === 'PRIMARY');
  return { taskDefinition: primary?.taskDefinition ?? '', rolloutState: primary?.rolloutState ?? '', deployments: record?.deployments.length ?? 0 };
}
