/**
 * Benchmark 3: the kill switch on a fleet of 50 trading services.
 *
 * For each of 100 halts, a halt alarm's state change is put on the bus as
 * CloudWatch emits it, and the benchmark watches for the halt flag's write
 * (SSM PutParameter): how many state transitions and Lambda invocations came
 * before it, and how much real (wall-clock) time the orchestration spent
 * between the event arriving at the router and the write. Simulated latencies
 * (event delivery, invocation) are virtual and not part of the wall time. Then
 * it measures, in virtual seconds, the time from the alarm event to the halt
 * verified (every service confirmed halted with no open orders, or stopped).
 * Between halts, trading is resumed through the resume workflow, approved.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseFleet, type Fleet } from '../../lib/fleet/fleet';
import { Sandbox } from '../../lib/sandbox/sandbox';
import { alarmEvent } from '../support/alarm-event';
import { runUntilSettled } from '../../lib/cli/workflow-run';
import { fmt, pct } from './stats';

const TRADING_SERVICES = 50;
const HALTS = Number(process.env.BENCH_HALTS ?? 100);
const TARGETS = { transitionsBeforeFlag: 2 };
const HALT_ALARM = 'prod-daily-loss-limit';

/** The example fleet with its trading services replaced by 50 (every fifth hard-stopped, the rest soft with an admin API). */
export function fleetOfTradingServices(count: number): Fleet {
  const raw = parse(readFileSync('examples/trading-fleet.yaml', 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
    halt: { alarms: { name: string; threshold: number }[] };
  };
  // The example's venue limit is sized for one order gateway; 50 of them trade under a limit sized for 50,
  // otherwise their normal order flow trips it before the benchmark's alarm.
  for (const alarm of raw.halt.alarms) if (alarm.name === 'prod-order-rate-venue-limit') alarm.threshold *= count;
  const { 'reference-data': referenceData, 'order-gateway': soft, 'market-data': hard } = raw.services;
  const services: Record<string, Record<string, unknown>> = { 'reference-data': referenceData ?? {} };
  for (let i = 1; i <= count; i += 1) {
    const id = `trader-${String(i).padStart(2, '0')}`;
    const template = i % 5 === 0 ? hard : soft;
    services[id] = {
      ...template,
      imageRepository: `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${id}`,
      dependsOn: ['reference-data'],
      capacity: { desired: 2, min: 2, max: 4 },
      executionRoleName: `${id}-execution`,
      taskRoleName: `${id}-task`,
      rollbackAlarms: [],
      // The order gateway's scaling policy (its alarms and schedule) belongs to it alone.
      scaling: undefined,
    };
  }
  // The example's managed secrets name services this fleet does not have; the admin token (halt.adminTokenSecret) stays.
  return parseFleet({ ...raw, secrets: {}, services }, `example fleet with ${count} trading services`, { baseDirectory: 'examples' });
}

interface HaltMeasurement {
  readonly writesBeforeFlag: readonly string[];
  readonly transitionsBeforeFlag: number;
  readonly invocationsBeforeFlag: number;
  readonly overheadMs: number;
  readonly verifiedSeconds: number;
  readonly confirmed: boolean;
}

interface FlagWrite {
  readonly at: number;
  readonly invocations: number;
  readonly transitions: number;
  /** Writes to any other service (DynamoDB, SNS, Step Functions, ECS) before the flag. */
  readonly writesBefore: readonly string[];
}

const WRITE = /^(Put|Update|Delete|Start|Stop|Publish|Create|Register|Send|BatchWrite|TransactWrite)/;

/** Instruments the sandbox: the moment the halt flag is written, and the Lambda invocations and writes before it. */
function watchFlagWrites(sandbox: Sandbox): { flagWritten: () => FlagWrite | undefined; reset: () => void } {
  let written: FlagWrite | undefined;
  let invocationsStarted = 0;
  let writes: string[] = [];
  for (const [name, service] of [
    ['dynamodb', sandbox.dynamodb],
    ['sns', sandbox.sns],
    ['states', sandbox.stepFunctions],
    ['ecs', sandbox.ecs],
  ] as const) {
    const original = service.handle.bind(service);
    service.handle = (operation: string, input: Record<string, unknown>) => {
      if (!written && WRITE.test(operation)) writes.push(`${name}:${operation}`);
      return original(operation, input);
    };
  }
  const invoke = sandbox.lambda.invoke.bind(sandbox.lambda);
  sandbox.lambda.invoke = (name, payload) => {
    invocationsStarted += 1;
    return invoke(name, payload);
  };
  const handle = sandbox.ssm.handle.bind(sandbox.ssm);
  sandbox.ssm.handle = async (operation, input) => {
    if (operation === 'PutParameter' && input.Name === sandbox.config.haltParameterName && !written && String(input.Value).includes('"halted":true')) {
      const transitions = sandbox.stepFunctions.listExecutionRecords().reduce((sum, e) => sum + e.transitions, 0);
      written = { at: performance.now(), invocations: invocationsStarted, transitions, writesBefore: writes };
    }
    return handle(operation, input);
  };
  return {
    flagWritten: () => written,
    reset: () => {
      written = undefined;
      invocationsStarted = 0;
      writes = [];
    },
  };
}

async function haltOnce(sandbox: Sandbox, watch: ReturnType<typeof watchFlagWrites>): Promise<HaltMeasurement> {
  const transitionsBefore = sandbox.stepFunctions.listExecutionRecords().reduce((sum, e) => sum + e.transitions, 0);
  const event = alarmEvent(sandbox, HALT_ALARM, { reason: 'Threshold Crossed: desk P&L below the daily loss limit' });
  const eventAt = sandbox.clock.now();
  watch.reset();
  sandbox.eventBridge.put(event);
  // The router is invoked after the bus's delivery latency (virtual); wall time counts from its invocation.
  let routerStartedWall = 0;
  const invoke = sandbox.lambda.invoke;
  sandbox.lambda.invoke = (name, payload) => {
    if (routerStartedWall === 0) routerStartedWall = performance.now();
    return invoke(name, payload);
  };
  await sandbox.clock.runUntil(() => watch.flagWritten() !== undefined, 60_000);
  sandbox.lambda.invoke = invoke;
  const flag = watch.flagWritten();
  if (!flag) throw new Error('the halt flag was never written');
  await runUntilSettled(sandbox);
  const halt = sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.halt).find((e) => e.name === `alarm-${event.id}`);
  if (!halt) throw new Error('no halt execution');
  const output = JSON.parse(halt.output ?? '{}') as { status?: string };
  return {
    writesBeforeFlag: flag.writesBefore,
    transitionsBeforeFlag: flag.transitions - transitionsBefore,
    invocationsBeforeFlag: flag.invocations,
    overheadMs: flag.at - routerStartedWall,
    verifiedSeconds: ((halt.stopDate ?? 0) - eventAt) / 1000,
    confirmed: halt.status === 'SUCCEEDED' && output.status === 'CONFIRMED',
  };
}

async function resumeTrading(sandbox: Sandbox): Promise<void> {
  const arn = await sandbox.startExecution('resume', { requestedBy: 'bench-requester', reason: 'benchmark cycle' });
  await sandbox.clock.runUntil(() => sandbox.stepFunctions.isWaitingOnToken(arn));
  const chiefRiskOfficer = `arn:aws:sts::${sandbox.context.account}:assumed-role/AWSReservedSSO_RiskApprover_9b2e/chief-risk-officer`;
  const answer = await sandbox.invokeFunctionUrl('resume', 'DecideResumeApproval', chiefRiskOfficer, { approvalId: arn.split(':').pop(), decision: 'approve' });
  if (answer.statusCode !== 200) throw new Error(`approval refused: ${answer.statusCode} ${answer.body}`);
  const record = await sandbox.runExecution(arn);
  if (record.status !== 'SUCCEEDED') throw new Error(`resume failed: ${record.error ?? ''} ${record.cause ?? ''}`);
}

export async function haltBenchmark(): Promise<boolean> {
  console.log(`\n3. The kill switch: alarm event → halt flag → verified stop, on a fleet of ${TRADING_SERVICES} trading services (${HALTS} halts)\n`);
  const fleet = fleetOfTradingServices(TRADING_SERVICES);
  const sandbox = await Sandbox.open({ fleet, seed: 4242 });
  try {
    const watch = watchFlagWrites(sandbox);
    const runs: HaltMeasurement[] = [];
    for (let i = 0; i < HALTS; i += 1) {
      runs.push(await haltOnce(sandbox, watch));
      await resumeTrading(sandbox);
      // A minute of trading, so the next halt finds open orders to cancel.
      await sandbox.clock.advance(60_000);
    }
    // The console / CLI path: StartExecution of the halt state machine directly.
    watch.reset();
    const direct = sandbox.stepFunctions.listExecutionRecords().reduce((sum, e) => sum + e.transitions, 0);
    const arn = await sandbox.startExecution('halt', { reason: 'benchmark: console halt', actor: 'bench' });
    await sandbox.clock.runUntil(() => watch.flagWritten() !== undefined, 60_000);
    const directFlag = watch.flagWritten();
    await sandbox.runExecution(arn);

    const overhead = runs.map((r) => r.overheadMs);
    const verified = runs.map((r) => r.verifiedSeconds);
    const maxTransitions = Math.max(...runs.map((r) => r.transitionsBeforeFlag));
    const maxInvocations = Math.max(...runs.map((r) => r.invocationsBeforeFlag));
    console.log('   path                       transitions before flag  Lambda invocations before flag');
    console.log(`   alarm → router             ${String(maxTransitions).padStart(23)}  ${String(maxInvocations).padStart(30)}`);
    console.log(
      `   console/CLI StartExecution ${String((directFlag?.transitions ?? NaN) - direct).padStart(23)}  ${String(directFlag?.invocations ?? NaN).padStart(30)}`,
    );
    console.log(
      `\n   wall-clock orchestration overhead, router invoked → flag written: p50 ${fmt(pct(overhead, 50))} ms, p99 ${fmt(pct(overhead, 99))} ms, max ${fmt(Math.max(...overhead))} ms`,
    );
    console.log(
      `   alarm event → halt verified (virtual): p50 ${fmt(pct(verified, 50), 1)} s, p99 ${fmt(pct(verified, 99), 1)} s, max ${fmt(Math.max(...verified), 1)} s`,
    );
    const checks = [
      {
        name: 'the flag is the first write (alarm path)',
        ok: runs.every((r) => r.writesBeforeFlag.length === 0),
        value: `${runs.filter((r) => r.writesBeforeFlag.length === 0).length}/${runs.length} halts${runs.find((r) => r.writesBeforeFlag.length > 0)?.writesBeforeFlag.join(', ') ?? ''}`,
      },
      { name: 'at most 2 transitions before the flag (alarm path)', ok: maxTransitions <= TARGETS.transitionsBeforeFlag, value: `${maxTransitions}` },
      {
        name: 'the flag is the first write (console path)',
        ok: directFlag?.writesBefore.length === 0,
        value: directFlag?.writesBefore.join(', ') || 'none before',
      },
      {
        name: 'at most 2 transitions before the flag (console path)',
        ok: (directFlag?.transitions ?? Infinity) - direct <= TARGETS.transitionsBeforeFlag,
        value: `${(directFlag?.transitions ?? NaN) - direct}`,
      },
      {
        name: `every halt verified on all ${TRADING_SERVICES} trading services`,
        ok: runs.every((r) => r.confirmed),
        value: `${runs.filter((r) => r.confirmed).length}/${runs.length}`,
      },
    ];
    console.log();
    for (const c of checks) console.log(`   ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
    return checks.every((c) => c.ok);
  } finally {
    sandbox.dispose();
  }
}
