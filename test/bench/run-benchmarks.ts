/**
 * npm run bench: what Assure costs and how fast it reacts.
 *
 * 1. One rolling deploy in the sandbox, event-driven (the deploy state machine) vs
 *    the classic polling loop (Wait 15 s + DescribeServices) of the same deploy:
 *    state transitions, Lambda invocations, and virtual seconds from ECS finishing
 *    the deployment to the state machine acting on it.
 * 2. The real Lambda bundles (CDK synth with esbuild): minified size of each.
 * 3. The kill switch on 50 trading services (halt-benchmark.ts).
 * 4. Rotating a secret with 5 consumers (rotation-benchmark.ts).
 * 5. Scaling decisions from load alarms (scale-benchmark.ts).
 * 6. IAM evaluation per call in the sandbox (iam-benchmark.ts).
 * 7. Releases: exposure per strategy, push → release, fleet waves (release-benchmark.ts).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { AssureStack } from '../../lib/assure-stack';
import { loadFleetFile } from '../../lib/fleet/fleet-file';
import { Sandbox } from '../../lib/sandbox/sandbox';
import type { ExecutionRecord } from '../../lib/sandbox/simulated-step-functions';
import type { ImageBehaviour } from '../../lib/sandbox/simulated-workloads';
import { functionName } from '../../lib/naming';
import { substitute } from '../../lib/workflows/asl';
import { functionArnPlaceholder } from '../../lib/workflows/workflow-spec';
import { haltBenchmark } from './halt-benchmark';
import { iamBenchmark } from './iam-benchmark';
import { releaseBenchmark } from './release-benchmark';
import { rotationBenchmark } from './rotation-benchmark';
import { scaleBenchmark } from './scale-benchmark';
import { pollDeploymentStatus } from './poll-deployment-status';
import { fmt, mean, pct } from './stats';
import { POLL_INTERVAL_SECONDS, pollingDeployDefinition } from './polling-deploy';

const TARGETS = { reactionSeconds: 1, transitions: 40, bundleBytes: 500 * 1024 };
const RUNS = 40;
const fleet = loadFleetFile('examples/trading-fleet.yaml');

interface DeployMeasurement {
  readonly service: string;
  readonly status: string;
  readonly transitions: number;
  readonly invocations: number;
  readonly reactionSeconds: number;
  readonly rolloutSeconds: number;
  readonly wallMs: number;
}

/** One deploy of `service` with `variant`, after idling `offsetMs` so runs fall at different points of the poll grid. */
async function measure(variant: 'event-driven' | 'polling', service: string, behaviour: ImageBehaviour, offsetMs: number): Promise<DeployMeasurement> {
  // The polling baseline's function and state machine are not part of the stack, so no role of it could run them: IAM is off for it.
  const sandbox = await Sandbox.open({ fleet, seed: 1000 + Math.round(offsetMs), ...(variant === 'polling' ? { iam: 'off' as const } : {}) });
  try {
    let workflow = 'deploy';
    if (variant === 'polling') {
      const { asl, placeholders } = pollingDeployDefinition();
      const arns = {
        ...sandbox.functionArns.deploy,
        PollDeploymentStatus: sandbox.createHandlerFunction(
          pollDeploymentStatus,
          functionName(sandbox.fleet.environment, 'deploy-polling', pollDeploymentStatus.name),
        ),
      };
      const definition = JSON.parse(
        substitute(asl, Object.fromEntries(placeholders.map((k) => [functionArnPlaceholder(k), arns[k as keyof typeof arns] as string]))),
      ) as StateMachineDefinition;
      sandbox.stateMachines.pollingDeploy = sandbox.stepFunctions.createStateMachine('assure-prod-deploy-polling', definition);
      workflow = 'pollingDeploy';
    }
    await sandbox.clock.advance(offsetMs);
    const image = `${fleet.services[service]?.imageRepository ?? ''}:bench-${Math.round(offsetMs)}`;
    sandbox.images.set(image, behaviour);
    const invocationsBefore = sandbox.lambda.invocations.length;
    const wallStart = performance.now();
    const executionArn = await sandbox.startExecution(workflow, { service, image, requestedBy: 'bench' });
    const record = await sandbox.runExecution(executionArn);
    const wallMs = performance.now() - wallStart;
    const completed = sandbox.eventBridge.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED');
    const completedAt = Date.parse(String(completed?.detail.updatedAt ?? ''));
    const reactedAt = stateEnteredAt(record, 'Run health gate');
    const rolloutStart = stateEnteredAt(record, 'Start deployment');
    return {
      service,
      status: record.status,
      transitions: record.transitions,
      invocations: sandbox.lambda.invocations.length - invocationsBefore,
      reactionSeconds: (reactedAt - completedAt) / 1000,
      rolloutSeconds: (completedAt - rolloutStart) / 1000,
      wallMs,
    };
  } finally {
    sandbox.dispose();
  }
}

function stateEnteredAt(record: ExecutionRecord, state: string): number {
  return record.history.find((e) => e.type.endsWith('StateEntered') && e.stateName === state)?.timestamp ?? Number.NaN;
}

async function deployBenchmark(): Promise<boolean> {
  console.log(`1. One rolling deploy in the sandbox (${RUNS} runs per variant, spread over the ${POLL_INTERVAL_SECONDS}-s poll grid)\n`);
  const results: Record<string, DeployMeasurement[]> = { 'event-driven': [], polling: [] };
  for (const variant of ['event-driven', 'polling'] as const) {
    for (let i = 0; i < RUNS; i += 1) {
      results[variant]?.push(await measure(variant, 'market-data', 'healthy', (i * POLL_INTERVAL_SECONDS * 1000) / RUNS));
    }
  }
  const rows = (['event-driven', 'polling'] as const).map((variant) => {
    const runs = results[variant] ?? [];
    const reaction = runs.map((r) => r.reactionSeconds);
    return {
      variant,
      ok: runs.every((r) => r.status === 'SUCCEEDED'),
      transitions: mean(runs.map((r) => r.transitions)),
      invocations: mean(runs.map((r) => r.invocations)),
      reactionMean: mean(reaction),
      reactionP50: pct(reaction, 50),
      reactionMax: Math.max(...reaction),
      wall: mean(runs.map((r) => r.wallMs)),
    };
  });
  console.log('variant        transitions  lambda invocations  reaction mean / p50 / max (virtual s)  wall ms per deploy');
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(14)} ${fmt(r.transitions, 1).padStart(11)}  ${fmt(r.invocations, 1).padStart(18)}  ${`${fmt(r.reactionMean)} / ${fmt(r.reactionP50)} / ${fmt(r.reactionMax)}`.padStart(36)}  ${fmt(r.wall, 0).padStart(18)}`,
    );
  }

  // Transitions must not grow with how long ECS takes: compare a slow rollout.
  console.log("\n   Does the cost grow with the rollout's duration? (one deploy each)");
  const durations: [string, ImageBehaviour][] = [
    ['market-data', 'healthy'],
    ['web-gui', 'healthy'],
    ['order-gateway', 'slow-start'],
  ];
  const growth: { variant: string; rollout: number; transitions: number }[] = [];
  for (const [service, behaviour] of durations) {
    for (const variant of ['event-driven', 'polling'] as const) {
      const m = await measure(variant, service, behaviour, 0);
      growth.push({ variant, rollout: m.rolloutSeconds, transitions: m.transitions });
      console.log(
        `   ${variant.padEnd(13)} ${service.padEnd(14)} rollout ${fmt(m.rolloutSeconds, 0).padStart(5)} s  transitions ${String(m.transitions).padStart(4)}  ${m.status}`,
      );
    }
  }
  const eventDriven = rows[0];
  const eventTransitions = growth.filter((g) => g.variant === 'event-driven').map((g) => g.transitions);
  const checks = [
    {
      name: `reaction ≤ ${TARGETS.reactionSeconds} s (max over runs)`,
      ok: (eventDriven?.reactionMax ?? Infinity) <= TARGETS.reactionSeconds,
      value: `${fmt(eventDriven?.reactionMax ?? NaN)} s`,
    },
    {
      name: `≤ ${TARGETS.transitions} transitions per deploy`,
      ok: Math.max(...eventTransitions) <= TARGETS.transitions,
      value: `${Math.max(...eventTransitions)}`,
    },
    { name: 'transitions do not grow with rollout duration', ok: new Set(eventTransitions).size === 1, value: eventTransitions.join(', ') },
    { name: 'every deploy succeeded', ok: rows.every((r) => r.ok), value: '' },
  ];
  console.log();
  for (const c of checks) console.log(`   ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.value ? `: ${c.value}` : ''}`);
  console.log(`   (polling baseline: mean reaction ${fmt(rows[1]?.reactionMean ?? NaN)} s; expected ≈ ${POLL_INTERVAL_SECONDS / 2} s)`);
  return checks.every((c) => c.ok);
}

function bundleBenchmark(): boolean {
  console.log('\n2. Lambda bundles (cdk synth, esbuild, minified ES modules with the SDK v3 clients inside)\n');
  const outdir = mkdtempSync(join(tmpdir(), 'assure-bench-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new AssureStack(app, 'Bench', { fleet, env: { account: fleet.account, region: fleet.region } });
    const assembly = app.synth();
    const template = JSON.parse(readFileSync(join(outdir, assembly.getStackByName(stack.stackName).templateFile), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { FunctionName?: string }; Metadata?: Record<string, string> }>;
    };
    const sizes = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => ({ name: r.Properties.FunctionName ?? '?', bytes: statSync(join(outdir, r.Metadata?.['aws:asset:path'] ?? '', 'index.mjs')).size }))
      .sort((a, b) => b.bytes - a.bytes);
    for (const s of sizes) console.log(`   ${s.name.padEnd(40)} ${fmt(s.bytes / 1024, 1).padStart(7)} KB  ${s.bytes <= TARGETS.bundleBytes ? 'PASS' : 'FAIL'}`);
    const ok = sizes.every((s) => s.bytes <= TARGETS.bundleBytes);
    console.log(`\n   ${ok ? 'PASS' : 'FAIL'}  every bundle ≤ ${TARGETS.bundleBytes / 1024} KB (largest ${fmt((sizes[0]?.bytes ?? 0) / 1024, 1)} KB)`);
    return ok;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const only = process.argv.slice(2);
const selected = (name: string): boolean => only.length === 0 || only.includes(name);
const results = [
  selected('deploy') ? await deployBenchmark() : true,
  selected('bundles') ? bundleBenchmark() : true,
  selected('halt') ? await haltBenchmark() : true,
  selected('rotation') ? await rotationBenchmark() : true,
  selected('scale') ? await scaleBenchmark() : true,
  selected('iam') ? await iamBenchmark(fleet) : true,
  selected('release') ? await releaseBenchmark() : true,
];
process.exitCode = results.every(Boolean) ? 0 : 1;
