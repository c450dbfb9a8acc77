/**
 * The scale workflow in the sandbox: load alarms on ECS's CPU metric reach the
 * router, which starts the scale state machine; halts, deployments, bounds and
 * cooldowns refuse or bound the change with a recorded reason; EventBridge
 * Scheduler raises capacity before the London open.
 */
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import type { ExecutionRecord } from '../../lib/sandbox/simulated-step-functions';
import {
  alarmEvent,
  auditTrail,
  deliver,
  executionsOf,
  fleetWith,
  haltFlag,
  openSandbox,
  routingDecisions,
  runUntilQuiet,
  setAlarm,
  startDeploy,
  succeededCalls,
} from '../support/sandbox';

const SERVICE = 'order-gateway';
const CPU_HIGH = 'prod-order-gateway-cpu-high';
const CPU_LOW = 'prod-order-gateway-cpu-low';

const desiredCount = (sandbox: Sandbox): number => sandbox.ecs.serviceRecord(sandbox.fleet.cluster, SERVICE)?.desiredCount ?? -1;

interface ScaleOutput {
  readonly service: string;
  readonly outcome: string;
  readonly from: number | null;
  readonly to: number | null;
  readonly message: string;
}
const outputOf = (record: ExecutionRecord | undefined): ScaleOutput => JSON.parse(record?.output ?? '{}') as ScaleOutput;

/** A CPU alarm event as CloudWatch emits it, with the reasonData the breach is read from. */
function cpuAlarm(sandbox: Sandbox, alarm: string, datapoints: number[], threshold: number) {
  const event = alarmEvent(sandbox, alarm, { reason: `Threshold Crossed: datapoints [${datapoints.join(', ')}]` });
  const detail = event.detail as { state: Record<string, unknown> };
  detail.state.reasonData = JSON.stringify({ version: '1.0', statistic: 'Average', period: 60, recentDatapoints: datapoints, threshold });
  return event;
}

async function scaleManually(sandbox: Sandbox, desired: number): Promise<ExecutionRecord> {
  const arn = await sandbox.startExecution('scale', { service: SERVICE, desiredCount: desired, requestedBy: 'alice', reason: 'test' });
  return sandbox.runExecution(arn);
}

describe('scaling', () => {
  it('load on order-gateway raises its CPU alarm, and the scale workflow adds the step the breach falls in; more tasks relieve the load', async () => {
    const sandbox = await openSandbox();
    expect(desiredCount(sandbox)).toBe(4);
    // 3.6 tasks' worth of CPU over 4 tasks: 90 % each, 20 points above the 70 % threshold.
    sandbox.load.set(SERVICE, 3.6);
    await sandbox.clock.runUntil(() => executionsOf(sandbox, 'scale').length > 0, 10 * 60_000);
    await runUntilQuiet(sandbox);

    const [execution] = executionsOf(sandbox, 'scale');
    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.name).toMatch(/^alarm-/);
    const input = JSON.parse(execution?.input ?? '{}') as Record<string, unknown>;
    expect(input).toMatchObject({ service: SERVICE, alarm: CPU_HIGH, direction: 'scale-out', source: `alarm:${CPU_HIGH}`, requestedBy: 'assure' });
    expect(Number(input.breach)).toBeGreaterThanOrEqual(15);
    expect(outputOf(execution)).toMatchObject({ outcome: 'scaled', from: 4, to: 6 });
    expect(desiredCount(sandbox)).toBe(6);
    // One scale-out, whatever else the event's repeated deliveries were told.
    expect(
      (await routingDecisions(sandbox)).filter((d) => d.alarm === CPU_HIGH && d.eventId === input.eventId && d.decision !== 'duplicate').map((d) => d.decision),
    ).toEqual(['scale-started']);
    expect(succeededCalls(sandbox, 'UpdateService', (i) => i.desiredCount !== undefined)).toBe(1);

    // Six tasks share the load: 60 % each, the alarm returns to OK and nothing scales again.
    await sandbox.settleEcs();
    await sandbox.clock.advance(5 * 60_000);
    expect(sandbox.cloudwatch.alarm(CPU_HIGH)?.StateValue).toBe('OK');
    expect(executionsOf(sandbox, 'scale')).toHaveLength(1);
    const records = (await auditTrail(sandbox, SERVICE)).filter((r) => r.action.startsWith('scale'));
    expect(records.map((r) => `${r.action} ${r.phase}`).reverse()).toEqual([
      'scale.decide intent',
      'scale.decide outcome',
      'scale.update-service intent',
      'scale.update-service outcome',
      'scale outcome',
    ]);
  });

  it('the step follows the breach: a small breach adds one task', async () => {
    const sandbox = await openSandbox();
    const event = cpuAlarm(sandbox, CPU_HIGH, [76, 74], 70);
    // Delivered twice: one execution, one scale-out.
    await deliver(sandbox, event, event);
    expect(executionsOf(sandbox, 'scale')).toHaveLength(1);
    expect(outputOf(executionsOf(sandbox, 'scale')[0])).toMatchObject({ outcome: 'scaled', from: 4, to: 5 });
    expect(desiredCount(sandbox)).toBe(5);
    expect(succeededCalls(sandbox, 'UpdateService', (i) => i.desiredCount !== undefined)).toBe(1);
  });

  it('a scale-out is refused while trading is halted, with the reason recorded, and on-call is told once per halt', async () => {
    const sandbox = await openSandbox();
    await deliver(sandbox, alarmEvent(sandbox, 'prod-daily-loss-limit'));
    const halt = await haltFlag(sandbox);
    expect(halt.halted).toBe(true);
    const pagesBefore = sandbox.sns.messages.length;

    await deliver(sandbox, cpuAlarm(sandbox, CPU_HIGH, [90, 90], 70));
    await deliver(sandbox, cpuAlarm(sandbox, CPU_HIGH, [91, 90], 70));

    const runs = executionsOf(sandbox, 'scale');
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const output = outputOf(runs[0]);
    expect(output).toMatchObject({ outcome: 'refused', from: 4, to: 6 });
    expect(output.message).toContain(`did nothing because trading is halted (${halt.haltId ?? ''}`);
    expect(desiredCount(sandbox)).toBe(4);
    const recorded = (await auditTrail(sandbox, SERVICE)).find((r) => r.action === 'scale' && r.phase === 'outcome');
    expect(recorded?.after).toMatchObject({ outcome: 'refused', refusal: 'halted' });
    const scalePages = sandbox.sns.messages.slice(pagesBefore).filter((m) => m.subject?.includes('scale out while trading is halted'));
    expect(scalePages).toHaveLength(1);
  });

  it('a scale-in is refused while a deploy of the service is running', async () => {
    const sandbox = await openSandbox();
    expect(outputOf(await scaleManually(sandbox, 6))).toMatchObject({ outcome: 'scaled', to: 6 });
    await sandbox.settleEcs();
    await sandbox.clock.advance(11 * 60_000);
    const deployArn = await startDeploy(sandbox, SERVICE, '2.0.0');
    await sandbox.clock.advance(20_000);
    expect(sandbox.stepFunctions.execution(deployArn)?.status).toBe('RUNNING');

    await deliver(sandbox, cpuAlarm(sandbox, CPU_LOW, [12, 13], 25));
    const scaleIn = executionsOf(sandbox, 'scale').find((r) => r.name.startsWith('alarm-'));
    const output = outputOf(scaleIn);
    expect(output).toMatchObject({ outcome: 'refused', from: 6, to: 5 });
    expect(output.message).toContain(`did nothing because a deployment of ${SERVICE} is running`);
    expect(desiredCount(sandbox)).toBe(6);
  });

  it('an alarm storm acts at most once per direction per cooldown', async () => {
    const sandbox = await openSandbox();
    // The CPU alarms flap through CloudWatch's own API: 60 state changes within a minute.
    for (let i = 0; i < 30; i += 1) {
      await setAlarm(sandbox, CPU_HIGH, i % 2 === 0 ? 'ALARM' : 'OK', `flap ${i}`);
      await setAlarm(sandbox, CPU_LOW, i % 2 === 0 ? 'ALARM' : 'OK', `flap ${i}`);
      await sandbox.clock.advance(2_000);
    }
    await runUntilQuiet(sandbox);

    const outcomes = executionsOf(sandbox, 'scale').map((r) => ({ direction: (JSON.parse(r.input) as { direction: string }).direction, ...outputOf(r) }));
    const acted = outcomes.filter((o) => o.outcome === 'scaled');
    expect(acted.filter((o) => o.direction === 'scale-out')).toHaveLength(1);
    // Scale-in is held back while the scale-out's cooldown holds (and the service sits at min before that).
    expect(acted.filter((o) => o.direction === 'scale-in').length).toBeLessThanOrEqual(1);
    expect(outcomes.filter((o) => o.outcome === 'refused').every((o) => o.message.includes('cooldown'))).toBe(true);
    expect(outcomes.filter((o) => o.outcome === 'refused').length).toBeGreaterThan(0);
    expect(desiredCount(sandbox)).toBe(5);
  });

  it('a manual request above max is bounded by max and recorded so', async () => {
    const sandbox = await openSandbox();
    const output = outputOf(await scaleManually(sandbox, 20));
    expect(output).toMatchObject({ outcome: 'scaled', from: 4, to: 8 });
    expect(output.message).toContain('bounded by max 8');
    expect(desiredCount(sandbox)).toBe(8);
  });

  it('an invalid request fails naming the field', async () => {
    const sandbox = await openSandbox();
    for (const [input, message] of [
      [{ service: SERVICE, requestedBy: 'alice' }, 'desiredCount: is required'],
      [{ service: 'web-gui', desiredCount: 2, requestedBy: 'alice' }, 'service: web-gui has no scaling policy'],
      [{ service: SERVICE, desiredCount: 'six', requestedBy: 'alice' }, 'desiredCount'],
      [{ service: SERVICE, desiredCount: 6, requestedBy: 'scheduler', source: 'schedule:lunch' }, 'source: lunch is not a scheduled capacity entry'],
    ] as const) {
      const record = await sandbox.runExecution(await sandbox.startExecution('scale', input));
      expect(record.status).toBe('FAILED');
      expect(record.error).toBe('InvalidScaleRequestError');
      expect(record.cause).toContain(message);
    }
  });
});

describe('scheduled capacity (EventBridge Scheduler)', () => {
  it('raises order-gateway to 6 before the London open and back to 4 after the close; the next open follows the clocks going forward', async () => {
    // Friday 27 March 2026, 05:20 UTC (GMT): the clocks go forward on Sunday the 29th.
    const sandbox = await openSandbox(fleetWith(), Date.parse('2026-03-27T05:20:00Z'));
    const open = sandbox.scheduler.list().find((s) => s.name === 'assure-prod-scale-order-gateway-london-open');
    expect(open).toMatchObject({ scheduleExpression: 'cron(45 7 ? * MON-FRI *)', timeZone: 'Europe/London' });
    expect(JSON.parse(open?.input ?? '{}')).toEqual({ service: SERVICE, desiredCount: 6, source: 'schedule:london-open', requestedBy: 'scheduler' });

    await sandbox.clock.advance(Date.parse('2026-03-27T07:46:00Z') - sandbox.clock.now());
    await runUntilQuiet(sandbox);
    const [first] = sandbox.scheduler.firings;
    expect(first).toMatchObject({ name: open?.name, at: Date.parse('2026-03-27T07:45:00Z') });
    expect(outputOf(sandbox.stepFunctions.execution(first?.executionArn ?? ''))).toMatchObject({ outcome: 'scaled', from: 4, to: 6 });
    expect(desiredCount(sandbox)).toBe(6);

    await sandbox.clock.advance(Date.parse('2026-03-27T16:46:00Z') - sandbox.clock.now());
    await runUntilQuiet(sandbox);
    expect(sandbox.scheduler.firings.map((f) => f.name.replace('assure-prod-scale-order-gateway-', ''))).toEqual(['london-open', 'london-close']);
    expect(desiredCount(sandbox)).toBe(4);
    // Monday's open is 07:45 BST: 06:45 UTC.
    expect(new Date(sandbox.scheduler.nextFireTime(open?.name ?? '') ?? 0).toISOString()).toBe('2026-03-30T06:45:00.000Z');
  });
});
