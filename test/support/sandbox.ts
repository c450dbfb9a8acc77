/**
 * Sandbox helpers for scenario tests: a fresh simulated account per test, and
 * small verbs (deploy, read the lock, read the audit trail) over its real APIs.
 *
 * `ASSURE_SANDBOX_DELIVERY=at-least-once` opens every sandbox with EventBridge
 * delivering as AWS may (duplicates, reordering, varied latency); `npm test`
 * runs the scenario suites once each way. `ASSURE_SANDBOX_SEED` picks another
 * seed, to explore other duplicate and reordering patterns.
 */
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach } from 'vitest';
import { readAuditTrail, type AuditRecord } from '../../functions/shared/domain/audit';
import { parseFleet, type Fleet } from '../../lib/fleet/fleet';
import { runUntilSettled } from '../../lib/cli/workflow-run';
import { Sandbox, type SandboxOptions } from '../../lib/sandbox/sandbox';
import { AT_LEAST_ONCE_UNORDERED, type AwsEvent, type EventDeliveryOptions } from '../../lib/sandbox/simulated-eventbridge';
import type { ExecutionRecord } from '../../lib/sandbox/simulated-step-functions';
import type { ImageBehaviour } from '../../lib/sandbox/simulated-workloads';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
  // The example's CA bundle path is relative to the example file.
  return parseFleet(raw, 'test fleet', { baseDirectory: dirname(EXAMPLE_FLEET_FILE) });
}

/** The event delivery the scenario suites run with, from ASSURE_SANDBOX_DELIVERY. */
export function scenarioDelivery(): { readonly mode: 'exactly-once' | 'at-least-once'; readonly options?: EventDeliveryOptions } {
  const mode = process.env.ASSURE_SANDBOX_DELIVERY ?? 'exactly-once';
  if (mode === 'exactly-once' || mode === '') return { mode: 'exactly-once' };
  if (mode === 'at-least-once' || mode === 'chaos') return { mode: 'at-least-once', options: AT_LEAST_ONCE_UNORDERED };
  throw new Error(`ASSURE_SANDBOX_DELIVERY must be exactly-once or at-least-once (chaos), not ${mode}`);
}

/** Sandbox options as the scenario suites open them: the chosen event delivery and seed added. */
export function scenarioOptions(options: SandboxOptions): SandboxOptions {
  const { options: eventDelivery } = scenarioDelivery();
  const seed = process.env.ASSURE_SANDBOX_SEED ? Number(process.env.ASSURE_SANDBOX_SEED) : undefined;
  return { ...(eventDelivery ? { eventDelivery } : {}), ...(seed === undefined ? {} : { seed }), ...options };
}

export async function openSandbox(fleet: Fleet = fleetWith(), startAt?: number, options: Omit<SandboxOptions, 'fleet' | 'startAt'> = {}): Promise<Sandbox> {
  const sandbox = await Sandbox.open(scenarioOptions({ fleet, ...(startAt === undefined ? {} : { startAt }), ...options }));
  open.push(sandbox);
  return sandbox;
}

export const imageOf = (sandbox: Sandbox, service: string, tag: string): string => `${sandbox.fleet.services[service]?.imageRepository ?? 'unknown'}:${tag}`;

export interface DeployOutcome {
  readonly record: ExecutionRecord;
  readonly executionArn: string;
}

export async function startDeploy(sandbox: Sandbox, service: string, tag: string, behaviour: ImageBehaviour = 'healthy', name?: string): Promise<string> {
  const image = imageOf(sandbox, service, tag);
  sandbox.images.set(image, behaviour);
  return sandbox.startExecution('deploy', { service, image, requestedBy: 'tester' }, name);
}

/** Runs a deploy to its end, then lets every event it caused reach its targets (late duplicates included). */
export async function deploy(sandbox: Sandbox, service: string, tag: string, behaviour: ImageBehaviour = 'healthy'): Promise<DeployOutcome> {
  const executionArn = await startDeploy(sandbox, service, tag, behaviour);
  const record = await sandbox.runExecution(executionArn);
  await drainEvents(sandbox);
  return { executionArn, record };
}

/** No event waits for delivery and no function an event invoked is still running. */
const eventsHandled = (sandbox: Sandbox): boolean => sandbox.eventBridge.pendingDeliveries === 0 && sandbox.lambda.pendingAsyncInvocations === 0;

/** Runs until every event already put on the bus has reached its targets (duplicates included) and they have handled it. */
export async function drainEvents(sandbox: Sandbox, maxVirtualMs = 10 * 60_000): Promise<void> {
  if ((await sandbox.clock.runUntil(() => eventsHandled(sandbox), maxVirtualMs)) !== 'done') {
    throw new Error(
      `${sandbox.eventBridge.pendingDeliveries} deliveries and ${sandbox.lambda.pendingAsyncInvocations} invocations still pending after ${maxVirtualMs / 60_000} virtual minutes`,
    );
  }
}

/** How many calls of an API operation succeeded (optionally only those whose input matches): side effects, counted where they happened. */
export function succeededCalls(sandbox: Sandbox, operation: string, matches: (input: Record<string, unknown>) => boolean = () => true): number {
  return sandbox.transport.calls.filter((c) => c.operation === operation && !c.error && matches(c.input as Record<string, unknown>)).length;
}

/** Outcome records per action for one execution: each action should have exactly one, however events were delivered. */
export async function outcomesPerAction(sandbox: Sandbox, subject: string, executionArn: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const r of await auditTrail(sandbox, subject)) {
    if (r.phase === 'outcome' && r.executionId === executionArn) counts[r.action] = (counts[r.action] ?? 0) + 1;
  }
  return counts;
}

/** The names of the states an execution entered, in order. */
export const statesEntered = (record: ExecutionRecord): string[] => record.history.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.stateName ?? '');

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

export { alarmEvent } from './alarm-event';

/** The router's recorded decisions (audit `alarm.route`), oldest first. */
export async function routingDecisions(sandbox: Sandbox): Promise<{ alarm: string; decision: string; why: string; eventId: string }[]> {
  const trail = await readAuditTrail(sandbox, { limit: 1000 });
  return trail
    .filter((r) => r.action === 'alarm.route')
    .reverse()
    .map((r) => ({
      alarm: String(r.after?.alarm ?? ''),
      decision: String(r.after?.decision ?? ''),
      why: r.reason ?? '',
      eventId: r.source.replace(/^eventbridge:/, ''),
    }));
}

/** Executions of one workflow, oldest first. */
export function executionsOf(sandbox: Sandbox, workflow: string): ExecutionRecord[] {
  const arn = sandbox.stateMachines[workflow];
  return sandbox.stepFunctions.listExecutionRecords(arn).sort((a, b) => a.startDate - b.startDate);
}

/** The halt flag as services read it. */
export async function haltFlag(sandbox: Sandbox): Promise<{ halted: boolean; haltId?: string; reason?: string; services?: string[]; version: number }> {
  const result = (await sandbox.complete(sandbox.clients.ssm.send(new GetParameterCommand({ Name: sandbox.config.haltParameterName })))).Parameter;
  return { ...(JSON.parse(result?.Value ?? '{}') as { halted: boolean }), version: result?.Version ?? 0 };
}

/** Puts events on the bus as their AWS services would, then runs until every execution they started has ended or waits on a person. */
export async function deliver(sandbox: Sandbox, ...events: AwsEvent[]): Promise<void> {
  for (const event of events) sandbox.eventBridge.put(event);
  await runUntilQuiet(sandbox);
}

/**
 * Lets events reach their targets, then runs until every execution has ended or
 * waits for a person and no delivery is pending (a late duplicate may start work again).
 */
export async function runUntilQuiet(sandbox: Sandbox, maxVirtualMs = 3 * 3600_000): Promise<void> {
  await sandbox.clock.advance(5_000);
  for (let round = 0; ; round += 1) {
    await runUntilSettled(sandbox, maxVirtualMs);
    if (eventsHandled(sandbox)) return;
    if (round >= 20) throw new Error(`Event deliveries keep coming: ${sandbox.eventBridge.pendingDeliveries} pending after ${round} rounds`);
    await drainEvents(sandbox);
  }
}

/** Sets an alarm's state through CloudWatch's API (it emits the state change). */
export async function setAlarm(sandbox: Sandbox, alarmName: string, value: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA', reason = 'set by test'): Promise<void> {
  await sandbox.complete(sandbox.clients.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: value, StateReason: reason })));
}
