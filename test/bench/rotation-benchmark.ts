/**
 * Benchmark: rotating a secret with five consumers in the sandbox.
 *
 * The example fleet's order-signing-key, consumed by five services
 * (reference-data, market-data, trade-service, risk-engine, order-gateway),
 * rotated through the rotate-secret state machine as an engineer starts it.
 * Measured in virtual time: from StartExecution until every running task of
 * every consumer started with the new version, and until the execution ended
 * (verified); plus its state transitions and Lambda invocations. Consumers are
 * redeployed one at a time, in dependency order, each through ECS's rolling
 * update and the deploy health gate: the time is dominated by the five rollouts.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseFleet, secretConsumers, type Fleet } from '../../lib/fleet/fleet';
import { Sandbox } from '../../lib/sandbox/sandbox';
import { fmt } from './stats';

const SECRET = 'order-signing-key';
const CONSUMERS = ['reference-data', 'market-data', 'trade-service', 'risk-engine', 'order-gateway'];

/** The example fleet with order-signing-key consumed by five services. */
export function fleetWithFiveConsumers(): Fleet {
  const raw = parse(readFileSync('examples/trading-fleet.yaml', 'utf8')) as { secrets: Record<string, Record<string, unknown>> };
  const secret = raw.secrets[SECRET];
  if (!secret) throw new Error(`examples/trading-fleet.yaml has no ${SECRET}`);
  secret.consumers = CONSUMERS;
  return parseFleet(raw, `example fleet, ${SECRET} with ${CONSUMERS.length} consumers`, { baseDirectory: 'examples' });
}

/** The secret version each running task of the consumers started with. */
function consumerVersions(sandbox: Sandbox, variable: string): (string | undefined)[] {
  return CONSUMERS.flatMap((id) => {
    const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[id]?.ecsServiceName ?? id);
    return record
      ? sandbox.ecs
          .serviceTasks(record)
          .filter((t) => t.lastStatus === 'RUNNING')
          .map((t) => sandbox.applications.app(t.taskArn)?.secretVersions[variable])
      : [undefined];
  });
}

export async function rotationBenchmark(): Promise<boolean> {
  console.log(`\nRotation: ${SECRET} with ${CONSUMERS.length} consumers, rotate-secret state machine in the sandbox\n`);
  const fleet = fleetWithFiveConsumers();
  const secret = fleet.secrets[SECRET];
  if (!secret) throw new Error(`no ${SECRET}`);
  const sandbox = await Sandbox.open({ fleet, seed: 5151 });
  try {
    const before = sandbox.secretsManager.versionWithStage(secret.name)?.versionId;
    const invocationsBefore = sandbox.lambda.invocations.length;
    const startedAt = Date.now();
    const executionArn = await sandbox.startExecution('rotate-secret', { secret: SECRET, requestedBy: 'bench', reason: 'benchmark' });
    const onNewVersion = (): boolean => {
      const current = sandbox.secretsManager.versionWithStage(secret.name)?.versionId;
      const versions = consumerVersions(sandbox, secret.variable);
      return current !== before && versions.length > 0 && versions.every((v) => v === current);
    };
    await sandbox.clock.runUntil(onNewVersion, 6 * 3600_000);
    const allOnNewVersionAt = onNewVersion() ? Date.now() : undefined;
    const record = await sandbox.runExecution(executionArn);
    const invocations = sandbox.lambda.invocations.length - invocationsBefore;
    const order = secretConsumers(fleet, SECRET);

    const seconds = (at: number | undefined): string => (at === undefined ? 'never' : `${fmt((at - startedAt) / 1000, 1)} s`);
    const rows: [string, string][] = [
      ['consumers, in dependency order', order.join(' → ')],
      ['start → every consumer task on the new version', `${seconds(allOnNewVersionAt)} (virtual)`],
      [`start → execution ${record.status.toLowerCase()} (tasks verified)`, `${seconds(record.stopDate)} (virtual)`],
      ['state transitions', String(record.transitions)],
      ["Lambda invocations (with the rotation function's 4 steps)", String(invocations)],
    ];
    for (const [label, value] of rows) console.log(`   ${label.padEnd(58)} ${value}`);
    const ok = record.status === 'SUCCEEDED' && allOnNewVersionAt !== undefined && order.length === CONSUMERS.length;
    console.log(`\n   ${ok ? '✓' : '✗'} rotated; every task of the ${CONSUMERS.length} consumers started with the new version`);
    return ok;
  } finally {
    sandbox.dispose();
  }
}
