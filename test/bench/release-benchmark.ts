/**
 * Benchmark 7: releases.
 *
 * a. The same bad releases of order-gateway (`failing-health-check`,
 *    `high-error-rate`) under each strategy (rolling, blue/green, canary 5 %,
 *    linear 10 %): the production exposure of the bad revision, ∫ (its share of
 *    production traffic) dt until traffic is back on the good one, in
 *    traffic-seconds; the detection time (first production exposure, or the
 *    start of the deploy when there was none, to the verdict: ECS's
 *    SERVICE_DEPLOYMENT_FAILED or the deploy workflow starting its rollback,
 *    whichever comes first); and the time from the verdict to 100 % of
 *    production traffic on the good revision.
 * b. A push event → the release execution it starts (virtual seconds).
 * c. A fleet release of the seven example services: virtual time in dependency
 *    waves (the fleet's maxParallelDeploys) against one service at a time, and
 *    the state transitions per service.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { measureExposure, type Exposure } from '../../lib/cli/exposure';
import { parseFleet, type Fleet } from '../../lib/fleet/fleet';
import { Sandbox } from '../../lib/sandbox/sandbox';
import type { ImageBehaviour } from '../../lib/sandbox/simulated-workloads';
import { fmt } from './stats';

const SERVICE = 'order-gateway';
const STRATEGIES = {
  rolling: { type: 'rolling' },
  'blue-green': { type: 'blue-green', bakeTimeMinutes: 10 },
  canary: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 },
  linear: { type: 'linear', stepPercent: 10, stepBakeTimeMinutes: 6 },
} as const;
type StrategyName = keyof typeof STRATEGIES;
const BAD_RELEASES: readonly ImageBehaviour[] = ['failing-health-check', 'high-error-rate'];
const TARGETS = { restoreSeconds: 5, pushToReleaseSeconds: 1, lessThanRolling: 20 };

function fleetWith(change: (raw: { services: Record<string, Record<string, unknown>>; release: Record<string, unknown> }) => void): Fleet {
  const raw = parse(readFileSync('examples/trading-fleet.yaml', 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
    release: Record<string, unknown>;
  };
  change(raw);
  return parseFleet(raw, 'benchmark fleet', { baseDirectory: 'examples' });
}

interface BadRelease {
  readonly strategy: StrategyName;
  readonly behaviour: ImageBehaviour;
  readonly status: string;
  readonly exposure: Exposure;
  readonly detectionSeconds: number;
  readonly restoreSeconds: number;
  readonly transitions: number;
}

async function badRelease(strategy: StrategyName, behaviour: ImageBehaviour): Promise<BadRelease> {
  const fleet = fleetWith((raw) => {
    const service = raw.services[SERVICE];
    if (service) service.strategy = STRATEGIES[strategy];
  });
  const sandbox = await Sandbox.open({ fleet, seed: 7100 });
  try {
    const image = `${fleet.services[SERVICE]?.imageRepository ?? ''}:bench-${strategy}`;
    sandbox.images.set(image, behaviour);
    const meter = measureExposure(sandbox, SERVICE, (candidate) => candidate === image);
    const startedAt = sandbox.clock.now();
    const executionArn = await sandbox.startExecution('deploy', { service: SERVICE, image, requestedBy: 'bench' });
    const record = await sandbox.runExecution(executionArn);
    const exposure = meter.stop();
    const failedEvent = sandbox.eventBridge.events.find(
      (e) => e['detail-type'] === 'ECS Deployment State Change' && e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED' && Date.parse(e.time) >= startedAt,
    );
    const rollbackState = record.history.find((e) => e.type.endsWith('StateEntered') && e.stateName === 'Roll back release');
    const verdicts = [failedEvent ? Date.parse(failedEvent.time) : Infinity, rollbackState?.timestamp ?? Infinity];
    const verdictAt = Math.min(...verdicts);
    const detectedFrom = exposure.firstExposedAt ?? startedAt;
    return {
      strategy,
      behaviour,
      status: record.status,
      exposure,
      detectionSeconds: (verdictAt - detectedFrom) / 1000,
      restoreSeconds: exposure.firstExposedAt === undefined ? 0 : ((exposure.restoredAt ?? Infinity) - verdictAt) / 1000,
      transitions: record.transitions,
    };
  } finally {
    sandbox.dispose();
  }
}

async function pushToRelease(): Promise<number> {
  const sandbox = await Sandbox.open({ fleet: fleetWith(() => undefined), seed: 7200 });
  try {
    const pushedAt = sandbox.clock.now();
    const pushed = sandbox.push(`${SERVICE}:4.0.0`, { behaviour: 'healthy' });
    const release = sandbox.stateMachines.release ?? '';
    await sandbox.clock.runUntil(() => sandbox.stepFunctions.listExecutionRecords(release).length > 0, 60_000);
    const execution = sandbox.stepFunctions.listExecutionRecords(release)[0];
    if (!execution || !execution.name.includes(pushed.digest.slice('sha256:'.length, 'sha256:'.length + 40))) throw new Error('the push started no release');
    return (execution.startDate - pushedAt) / 1000;
  } finally {
    sandbox.dispose();
  }
}

interface FleetRelease {
  readonly status: string;
  readonly virtualMinutes: number;
  readonly transitionsPerService: number;
  readonly waves: number;
}

async function fleetRelease(maxParallelDeploys: number): Promise<FleetRelease> {
  const fleet = fleetWith((raw) => {
    raw.release = { ...raw.release, maxParallelDeploys };
  });
  const sandbox = await Sandbox.open({ fleet, seed: 7300 });
  try {
    const services: Record<string, string> = {};
    // Tags that start no release on their own: the manifest releases them all at once.
    for (const id of Object.keys(fleet.services)) services[id] = sandbox.push(`${id}:rc-5.0.0`, { behaviour: 'healthy' }).image;
    await sandbox.clock.advance(5_000);
    const startedAt = sandbox.clock.now();
    const executionArn = await sandbox.startExecution('release', {
      services,
      requestedBy: 'bench',
      reason: 'fleet release benchmark',
      source: { type: 'manifest' },
    });
    const record = await sandbox.runExecution(executionArn);
    const children = sandbox.stepFunctions.listExecutionRecords().filter((e) => e.startDate >= startedAt && e.executionArn !== executionArn);
    const transitions = record.transitions + children.reduce((sum, e) => sum + e.transitions, 0);
    const output = record.output ? (JSON.parse(record.output) as { waves?: unknown[] }) : {};
    return {
      status: record.status,
      virtualMinutes: ((record.stopDate ?? sandbox.clock.now()) - startedAt) / 60_000,
      transitionsPerService: transitions / Object.keys(services).length,
      waves: Array.isArray(output.waves) ? output.waves.length : NaN,
    };
  } finally {
    sandbox.dispose();
  }
}

export async function releaseBenchmark(): Promise<boolean> {
  console.log(`\n7. Releases: the same bad ${SERVICE} releases under each strategy, a push, and a fleet release\n`);
  const runs: BadRelease[] = [];
  for (const behaviour of BAD_RELEASES) for (const strategy of Object.keys(STRATEGIES) as StrategyName[]) runs.push(await badRelease(strategy, behaviour));
  console.log(
    'behaviour              strategy     outcome  exposure (traffic-s)  peak %  detection (virtual s)  verdict → 100 % good (virtual s)  transitions',
  );
  for (const r of runs) {
    console.log(
      `${r.behaviour.padEnd(22)} ${r.strategy.padEnd(12)} ${r.status.padEnd(8)} ${fmt(r.exposure.trafficSeconds, 1).padStart(20)}  ${String(r.exposure.peakPercent).padStart(6)}  ${fmt(r.detectionSeconds, 1).padStart(21)}  ${fmt(r.restoreSeconds, 1).padStart(32)}  ${String(r.transitions).padStart(11)}`,
    );
  }
  const find = (strategy: StrategyName, behaviour: ImageBehaviour): BadRelease | undefined =>
    runs.find((r) => r.strategy === strategy && r.behaviour === behaviour);
  const checks: { name: string; ok: boolean; value?: string }[] = [
    { name: 'every bad release FAILED and was rolled back', ok: runs.every((r) => r.status === 'FAILED') },
  ];
  const blueGreen = find('blue-green', 'failing-health-check');
  checks.push({
    name: 'blue/green failing-health-check: production exposure 0',
    ok: blueGreen?.exposure.trafficSeconds === 0,
    value: fmt(blueGreen?.exposure.trafficSeconds ?? NaN, 1),
  });
  for (const behaviour of BAD_RELEASES) {
    const canary = find('canary', behaviour);
    const limit = 0.05 * (canary?.detectionSeconds ?? NaN) + 1;
    checks.push({
      name: `canary ${behaviour}: exposure ≤ 0.05 × detection time (+1 traffic-s for the one-second sampling)`,
      ok: (canary?.exposure.trafficSeconds ?? Infinity) <= limit,
      value: `${fmt(canary?.exposure.trafficSeconds ?? NaN, 1)} ≤ ${fmt(limit, 1)}`,
    });
  }
  for (const [strategy, behaviour] of [
    ['blue-green', 'failing-health-check'],
    ['canary', 'high-error-rate'],
    ['canary', 'failing-health-check'],
  ] as const) {
    const rolling = find('rolling', behaviour)?.exposure.trafficSeconds ?? NaN;
    const exposure = find(strategy, behaviour)?.exposure.trafficSeconds ?? NaN;
    checks.push({
      name: `${strategy} ${behaviour}: ≥ ${TARGETS.lessThanRolling}× less exposure than rolling`,
      ok: exposure * TARGETS.lessThanRolling <= rolling,
      value: `${fmt(exposure, 1)} vs rolling ${fmt(rolling, 1)} (${exposure === 0 ? 'none' : `${fmt(rolling / exposure, 0)}×`})`,
    });
  }
  for (const strategy of ['blue-green', 'canary'] as const) {
    const exposed = runs.filter((r) => r.strategy === strategy && r.exposure.firstExposedAt !== undefined);
    const worst = Math.max(0, ...exposed.map((r) => r.restoreSeconds));
    checks.push({
      name: `${strategy}: verdict → 100 % of production on the good revision ≤ ${TARGETS.restoreSeconds} s virtual`,
      ok: worst <= TARGETS.restoreSeconds,
      value: `${fmt(worst, 1)} s`,
    });
  }
  const rollingRestore = Math.max(...runs.filter((r) => r.strategy === 'rolling').map((r) => r.restoreSeconds));
  console.log(`\n   (rolling: verdict → 100 % on the good revision takes up to ${fmt(rollingRestore, 1)} s virtual: ECS replaces the tasks one by one)`);

  const pushSeconds = await pushToRelease();
  checks.push({
    name: `push event → release execution started ≤ ${TARGETS.pushToReleaseSeconds} s virtual`,
    ok: pushSeconds <= TARGETS.pushToReleaseSeconds,
    value: `${fmt(pushSeconds, 2)} s`,
  });

  const waves = await fleetRelease(3);
  const oneByOne = await fleetRelease(1);
  console.log('\n   fleet release of the seven example services      outcome    virtual minutes  transitions per service');
  for (const [label, r] of [
    ['in dependency waves (maxParallelDeploys 3)', waves],
    ['one service at a time (maxParallelDeploys 1)', oneByOne],
  ] as const) {
    console.log(`   ${label.padEnd(47)} ${r.status.padEnd(10)} ${fmt(r.virtualMinutes, 1).padStart(15)}  ${fmt(r.transitionsPerService, 1).padStart(23)}`);
  }
  checks.push({ name: 'the fleet releases SUCCEEDED', ok: waves.status === 'SUCCEEDED' && oneByOne.status === 'SUCCEEDED' });
  checks.push({
    name: 'waves are faster than one by one',
    ok: waves.virtualMinutes < oneByOne.virtualMinutes,
    value: `${fmt(waves.virtualMinutes, 1)} vs ${fmt(oneByOne.virtualMinutes, 1)} min`,
  });

  console.log();
  for (const c of checks) console.log(`   ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.value ? `: ${c.value}` : ''}`);
  return checks.every((c) => c.ok);
}
