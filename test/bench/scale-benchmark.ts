/**
 * Benchmark 5: how fast a load alarm becomes a scaling action.
 *
 * For each of 50 scale-out alarms on order-gateway (a `CloudWatch Alarm State
 * Change` with the breach in its reasonData, put on the bus as CloudWatch emits
 * it), the benchmark watches for the ECS UpdateService that changes the desired
 * count: the virtual time from the event to that call (event delivery, the
 * router, the scale state machine's decision), the wall-clock time Assure's own
 * code spent between the router's invocation and the call, and the execution's
 * state transitions. Between alarms the service is put back to 4 tasks and the
 * scale-out cooldown is let pass.
 */
import { Sandbox } from '../../lib/sandbox/sandbox';
import { alarmEvent } from '../support/alarm-event';
import { runUntilSettled } from '../../lib/cli/workflow-run';
import { loadFleetFile } from '../../lib/fleet/fleet-file';
import { fmt, mean, pct } from './stats';

const ALARMS = Number(process.env.BENCH_SCALES ?? 50);
const SERVICE = 'order-gateway';
const CPU_HIGH = 'prod-order-gateway-cpu-high';
const TARGETS = { decisionSeconds: 5 };

interface ScaleMeasurement {
  readonly virtualSeconds: number;
  readonly overheadMs: number;
  readonly transitions: number;
  readonly added: number;
}

export async function scaleBenchmark(): Promise<boolean> {
  console.log(`\n5. Scaling: load alarm event → UpdateService on ${SERVICE} (${ALARMS} alarms)\n`);
  const fleet = loadFleetFile('examples/trading-fleet.yaml');
  const sandbox = await Sandbox.open({ fleet, seed: 5151 });
  try {
    let scaledAt: { virtual: number; wall: number; desired: number } | undefined;
    // Every SDK call of a handler passes through the sandbox's transport.
    const call = sandbox.transport.call.bind(sandbox.transport);
    sandbox.transport.call = (clientName: string, operation: string, input: Record<string, unknown>) => {
      if (operation === 'UpdateService' && input.service === SERVICE && typeof input.desiredCount === 'number' && !scaledAt) {
        scaledAt = { virtual: sandbox.clock.now(), wall: performance.now(), desired: input.desiredCount };
      }
      return call(clientName, operation, input);
    };
    const runs: ScaleMeasurement[] = [];
    const refusals: string[] = [];
    for (let i = 0; i < ALARMS; i += 1) {
      const event = alarmEvent(sandbox, CPU_HIGH, { reason: 'Threshold Crossed: 2 datapoints [91.0, 89.5] were greater than the threshold (70.0)' });
      (event.detail as { state: Record<string, unknown> }).state.reasonData = JSON.stringify({
        version: '1.0',
        statistic: 'Average',
        period: 60,
        recentDatapoints: [91, 89.5],
        threshold: 70,
      });
      const eventAt = sandbox.clock.now();
      const from = sandbox.ecs.serviceRecord(fleet.cluster, SERVICE)?.desiredCount ?? NaN;
      scaledAt = undefined;
      let routerStartedWall = 0;
      const invoke = sandbox.lambda.invoke.bind(sandbox.lambda);
      sandbox.lambda.invoke = (name, payload) => {
        if (routerStartedWall === 0) routerStartedWall = performance.now();
        return invoke(name, payload);
      };
      sandbox.eventBridge.put(event);
      await sandbox.clock.runUntil(() => scaledAt !== undefined, 60_000);
      sandbox.lambda.invoke = invoke;
      const scaled = scaledAt as { virtual: number; wall: number; desired: number } | undefined;
      await runUntilSettled(sandbox);
      const execution = sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.scale).find((e) => e.name === `alarm-${event.id}`);
      if (!scaled) {
        // A recorded refusal (the scheduled open's scale-out started a cooldown, for one) is a decision too.
        const output = JSON.parse(execution?.output ?? '{}') as { outcome?: string; message?: string };
        if (!execution || output.outcome === 'scaled') throw new Error(`alarm ${i + 1}: no scale execution, or one that scaled without UpdateService`);
        refusals.push(`${output.outcome ?? '?'}: ${output.message ?? ''}`);
        await sandbox.clock.advance(3 * 60_000);
        continue;
      }
      runs.push({
        virtualSeconds: (scaled.virtual - eventAt) / 1000,
        overheadMs: scaled.wall - routerStartedWall,
        transitions: execution?.transitions ?? NaN,
        added: scaled.desired - from,
      });
      // Back to 4 tasks (as an engineer would, directly in ECS), and past the scale-out cooldown.
      await sandbox.ecs.handle('UpdateService', { cluster: fleet.cluster, service: SERVICE, desiredCount: 4 });
      await sandbox.clock.advance(3 * 60_000);
    }
    const virtual = runs.map((r) => r.virtualSeconds);
    const overhead = runs.map((r) => r.overheadMs);
    console.log(
      `   alarm event → UpdateService (virtual): mean ${fmt(mean(virtual), 2)} s, p50 ${fmt(pct(virtual, 50), 2)} s, max ${fmt(Math.max(...virtual), 2)} s`,
    );
    console.log(`   wall-clock orchestration overhead, router invoked → UpdateService: p50 ${fmt(pct(overhead, 50))} ms, p99 ${fmt(pct(overhead, 99))} ms`);
    console.log(`   state transitions per scale execution: ${fmt(mean(runs.map((r) => r.transitions)), 1)}`);
    console.log(
      `   ${runs.length} alarms scaled; ${refusals.length} refused with a recorded reason${refusals.length > 0 ? `, e.g. "${refusals[0]?.slice(0, 140) ?? ''}"` : ''}`,
    );
    const checks = [
      {
        name: `decision within ${TARGETS.decisionSeconds} s of the alarm event`,
        ok: Math.max(...virtual) <= TARGETS.decisionSeconds,
        value: `${fmt(Math.max(...virtual), 2)} s max`,
      },
      {
        name: 'every alarm that scaled added the 85 %+ step (+2 tasks)',
        ok: runs.length > 0 && runs.every((r) => r.added === 2),
        value: `${runs.filter((r) => r.added === 2).length}/${runs.length}`,
      },
    ];
    console.log();
    for (const c of checks) console.log(`   ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
    return checks.every((c) => c.ok);
  } finally {
    sandbox.dispose();
  }
}
