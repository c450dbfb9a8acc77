/**
 * Alarm routing in the sandbox: CloudWatch alarm state changes reach the router
 * through the EventBridge rule the stack creates, and the router turns them into
 * halts, rollbacks, pages, or recorded refusals. Events are put on the bus as
 * CloudWatch would emit them (or changed, to forge them).
 */
import { describe, expect, it } from 'vitest';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { alarmEvent, deliver, executionsOf, fleetWith, haltFlag, openSandbox, routingDecisions, runUntilQuiet, setAlarm } from '../support/sandbox';

const LOSS_LIMIT = 'prod-daily-loss-limit';

describe('alarm routing', () => {
  it('a fresh sandbox pages nobody: first evaluations are recorded, not paged', async () => {
    const sandbox = await openSandbox();
    await runUntilQuiet(sandbox);

    const decisions = await routingDecisions(sandbox);
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions.every((d) => d.decision === 'rejected')).toBe(true);
    expect(sandbox.sns.messages).toEqual([]);
  });

  const rejections = [
    { name: 'a foreign account', change: {}, overrides: { account: '999999999999' }, why: 'foreign account 999999999999', paged: false },
    { name: 'a foreign region', change: {}, overrides: { region: 'us-east-1' }, why: 'foreign region us-east-1', paged: false },
    { name: 'a replayed event', change: {}, overrides: { 'replay-name': 'incident-replay' }, why: 'replayed event', paged: false },
    { name: 'an event older than the maximum age', change: {}, overrides: { time: '2026-01-05T04:00:00Z' }, why: 'stale event', paged: false },
    { name: 'an event dated in the future', change: {}, overrides: { time: '2026-01-07T04:00:00Z' }, why: 'future-dated event', paged: false },
    { name: 'INSUFFICIENT_DATA', change: { value: 'INSUFFICIENT_DATA' }, overrides: {}, why: 'INSUFFICIENT_DATA is no evidence', paged: false },
    { name: 'a change into OK', change: { value: 'OK', previous: 'ALARM' }, overrides: {}, why: 'not a change into ALARM (ALARM → OK)', paged: false },
    {
      name: 'ALARM to ALARM (a reason update)',
      change: { value: 'ALARM', previous: 'ALARM' },
      overrides: {},
      why: 'not a change into ALARM (ALARM → ALARM)',
      paged: false,
    },
  ] as const;

  // A forged, replayed or misdated event, or a change that is not into ALARM, needs no person: recorded only.
  for (const rejection of rejections) {
    it(`refuses ${rejection.name} on a halt alarm: recorded, ${rejection.paged ? 'paged' : 'not paged'}, nothing done`, async () => {
      const sandbox = await openSandbox();
      const pagesBefore = sandbox.sns.messages.length;
      const event = alarmEvent(sandbox, LOSS_LIMIT, rejection.change, rejection.overrides);
      await deliver(sandbox, event);

      const decision = (await routingDecisions(sandbox)).find((d) => d.eventId === event.id);
      expect(decision).toMatchObject({ alarm: LOSS_LIMIT, decision: 'rejected' });
      expect(decision?.why).toContain(rejection.why);
      // One page for an event a person must act on, however often EventBridge delivers it; none for the others.
      const pages = sandbox.sns.messages.slice(pagesBefore).filter((m) => m.message.includes(event.id));
      expect(pages).toHaveLength(rejection.paged ? 1 : 0);
      if (rejection.paged) expect(pages[0]?.subject).toContain(`${LOSS_LIMIT}: rejected`);
      expect(executionsOf(sandbox, 'halt')).toHaveLength(0);
      expect(await haltFlag(sandbox)).toMatchObject({ halted: false, version: 1 });
    });
  }

  it('refuses an alarm that is not in the fleet file, and a malformed event, naming the field', async () => {
    const sandbox = await openSandbox();
    const unknown = alarmEvent(sandbox, 'prod-someone-elses-alarm');
    const { state: _state, ...detailWithoutState } = alarmEvent(sandbox, LOSS_LIMIT).detail;
    const malformed = { ...alarmEvent(sandbox, LOSS_LIMIT), detail: detailWithoutState };
    await deliver(sandbox, unknown, malformed);

    const decisions = await routingDecisions(sandbox);
    expect(decisions.find((d) => d.eventId === unknown.id)).toMatchObject({ decision: 'rejected', why: 'alarm not in the fleet file' });
    const refusedMalformed = decisions.find((d) => d.eventId === malformed.id);
    expect(refusedMalformed?.decision).toBe('rejected');
    expect(refusedMalformed?.why).toMatch(/^malformed event: .*detail\.state/);
    expect(executionsOf(sandbox, 'halt')).toHaveLength(0);
    expect(executionsOf(sandbox, 'rollback')).toHaveLength(0);
    expect((await haltFlag(sandbox)).halted).toBe(false);
  });

  it('a halt alarm going into ALARM sets the flag and starts one verified halt; the same event delivered again starts nothing', async () => {
    const sandbox = await openSandbox();
    const event = alarmEvent(sandbox, LOSS_LIMIT, { reason: 'Desk P&L below the limit' });
    // EventBridge delivers at least once: the duplicate arrives while the first is still being handled, and once more later.
    sandbox.eventBridge.put(event);
    sandbox.eventBridge.put(event);
    await runUntilQuiet(sandbox);
    await deliver(sandbox, event);

    const halts = executionsOf(sandbox, 'halt');
    expect(halts).toHaveLength(1);
    expect(halts[0]).toMatchObject({ name: `alarm-${event.id}`, status: 'SUCCEEDED' });
    const flag = await haltFlag(sandbox);
    expect(flag).toMatchObject({ halted: true, reason: `${LOSS_LIMIT}: Desk P&L below the limit`, services: ['market-data', 'risk-engine', 'order-gateway'] });
    // Written once: the duplicates found the same halt and did not write again.
    expect(flag.version).toBe(2);
    // One decision per delivery (three puts, and whatever duplicates the bus added): one halt, the rest duplicates.
    const deliveries = sandbox.eventBridge.deliveries.filter((d) => d.eventId === event.id && d.target === 'RouteAlarmEvent');
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    const decisions = (await routingDecisions(sandbox)).filter((d) => d.eventId === event.id).map((d) => d.decision);
    expect(decisions.sort()).toEqual([...Array<string>(deliveries.length - 1).fill('duplicate'), 'halt-started']);
  });

  it('a second halt alarm while trading is halted keeps the first halt', async () => {
    const sandbox = await openSandbox();
    const first = alarmEvent(sandbox, LOSS_LIMIT);
    await deliver(sandbox, first);
    const firstHaltId = (await haltFlag(sandbox)).haltId;
    const second = alarmEvent(sandbox, 'prod-order-reject-rate');
    await deliver(sandbox, second);

    expect((await haltFlag(sandbox)).haltId).toBe(firstHaltId);
    expect((await routingDecisions(sandbox)).find((d) => d.eventId === second.id)).toMatchObject({ decision: 'already-halted' });
    expect(executionsOf(sandbox, 'halt')).toHaveLength(1);
  });

  it('in notify-only mode an alarm pages and acts on nothing; in dry-run it records what it would have done', async () => {
    for (const [guardRails, decision, why] of [
      [{ automation: 'notify-only' }, 'suppressed', 'automation is notify-only: would halt trading'],
      [{ dryRun: true }, 'dry-run', 'dry run: would halt trading'],
    ] as const) {
      const sandbox = await openSandbox(fleetWith((raw) => Object.assign(raw.guardRails as object, guardRails)));
      const event = alarmEvent(sandbox, LOSS_LIMIT);
      await deliver(sandbox, event);
      expect((await routingDecisions(sandbox)).find((d) => d.eventId === event.id)).toMatchObject({ decision, why });
      expect(executionsOf(sandbox, 'halt')).toHaveLength(0);
      expect((await haltFlag(sandbox)).halted).toBe(false);
      expect(sandbox.sns.messages.some((m) => m.subject?.includes(`${LOSS_LIMIT}: ${decision}`))).toBe(true);
      sandbox.dispose();
    }
  });

  it('a notify alarm only pages, once however often the event is delivered', async () => {
    const sandbox = await openSandbox();
    const event = alarmEvent(sandbox, 'prod-position-service-lag');
    await deliver(sandbox, event, event);
    expect((await routingDecisions(sandbox)).find((d) => d.eventId === event.id)).toMatchObject({ decision: 'notified' });
    expect(sandbox.sns.messages.filter((m) => m.message.includes(event.id))).toHaveLength(1);
    expect(executionsOf(sandbox, 'halt')).toHaveLength(0);
    expect(executionsOf(sandbox, 'rollback')).toHaveLength(0);
  });

  describe('a flapping alarm pages at most once per paging.flapWindowMinutes, with a count', () => {
    const LAG = 'prod-position-service-lag';
    const pagesFor = (sandbox: Sandbox): { at: number; subject?: string; message: string }[] => sandbox.sns.messages.filter((m) => m.subject?.includes(LAG));
    const pageRecords = async (sandbox: Sandbox): Promise<Record<string, unknown>[]> =>
      (await readAuditTrail(sandbox, { limit: 1000 }))
        // A redelivered event (at-least-once delivery) finds its page decided already: left out.
        .filter((r) => r.action === 'alarm.route' && r.after?.alarm === LAG && r.after.decision === 'notified' && r.after.page !== 'not needed')
        .reverse()
        .map((r) => r.after ?? {});

    /** Five ALARM ↔ OK cycles through CloudWatch's API, a minute apart: all within the window. */
    const flap = async (sandbox: Sandbox, cycles: number): Promise<void> => {
      for (let i = 0; i < cycles; i += 1) {
        await setAlarm(sandbox, LAG, 'ALARM', `flap ${i}`);
        await sandbox.clock.advance(30_000);
        await setAlarm(sandbox, LAG, 'OK', `flap ${i} over`);
        await sandbox.clock.advance(30_000);
      }
      await runUntilQuiet(sandbox);
    };

    it('five cycles within the window page once; the audit trail counts the ones held back; after the window the next page says how many', async () => {
      const sandbox = await openSandbox();
      expect(sandbox.fleet.paging.flapWindowMinutes).toBe(15);
      await flap(sandbox, 5);

      expect(pagesFor(sandbox)).toHaveLength(1);
      const firstAt = new Date(pagesFor(sandbox)[0]?.at ?? 0).toISOString().slice(11, 16);
      expect(pagesFor(sandbox)[0]?.subject).toBe(`[assure prod] ${LAG}: notified`);
      const records = await pageRecords(sandbox);
      expect(records.map((r) => r.page)).toEqual(['sent', 'held back', 'held back', 'held back', 'held back']);
      expect(records.map((r) => r.heldBack)).toEqual([undefined, 1, 2, 3, 4]);
      const firstPagedAt = new Date(pagesFor(sandbox)[0]?.at ?? 0).toISOString();
      expect(records.slice(1).every((r) => r.pageWhy === `flapping: paged at ${firstPagedAt}, at most once per 15 minutes`)).toBe(true);

      // Past the window: the next change into ALARM pages, counting what the window held back.
      await sandbox.clock.advance(15 * 60_000);
      await flap(sandbox, 1);

      const pages = pagesFor(sandbox);
      expect(pages).toHaveLength(2);
      expect(pages[1]?.subject).toBe(`[assure prod] ${LAG}: notified (4 more times since ${firstAt} UTC)`);
      expect(pages[1]?.message).toContain(`${LAG} also paged (4 more times since ${firstAt} UTC): held back by the 15-minute flap window`);
      expect((await pageRecords(sandbox)).at(-1)).toMatchObject({ page: 'sent', heldBack: 4 });
    });

    it('a window of 0 pages every change into ALARM', async () => {
      const sandbox = await openSandbox(fleetWith((raw) => Object.assign(raw.paging as object, { flapWindowMinutes: 0 })));
      await flap(sandbox, 5);

      expect(pagesFor(sandbox)).toHaveLength(5);
      expect((await pageRecords(sandbox)).map((r) => r.page)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    });

    it('each alarm has its own window', async () => {
      const sandbox = await openSandbox(fleetWith((raw) => Object.assign(raw.guardRails as object, { automation: 'notify-only' })));
      await flap(sandbox, 2);
      await setAlarm(sandbox, LOSS_LIMIT, 'ALARM', 'breach');
      await runUntilQuiet(sandbox);

      expect(pagesFor(sandbox)).toHaveLength(1);
      expect(sandbox.sns.messages.filter((m) => m.subject?.includes(`${LOSS_LIMIT}: suppressed`))).toHaveLength(1);
    });
  });

  it('a halt pages exactly once, from the halt workflow, with its verified outcome; redeliveries page nobody', async () => {
    const sandbox = await openSandbox();
    const event = alarmEvent(sandbox, LOSS_LIMIT, { reason: 'Desk P&L below the limit' });
    sandbox.eventBridge.put(event);
    sandbox.eventBridge.put(event);
    await runUntilQuiet(sandbox);
    await deliver(sandbox, event);

    const { haltId } = await haltFlag(sandbox);
    expect(executionsOf(sandbox, 'halt')).toHaveLength(1);
    expect(sandbox.sns.messages).toHaveLength(1);
    const [halted] = sandbox.sns.messages;
    expect(halted?.subject).toBe(`Trading halted (${haltId ?? ''})`);
    expect(halted?.message).toContain(`${LOSS_LIMIT}: Desk P&L below the limit`);
    expect(halted?.message).toContain('Requested by assure via alarm:prod-daily-loss-limit');
    expect(halted?.message).toContain('Trading stopped: market-data, risk-engine, order-gateway confirmed');
    expect(halted?.message).toContain('assure resume');
    // Every routing of the event recorded that it paged nobody, and why.
    const trail = (await readAuditTrail(sandbox, { limit: 1000 })).filter((r) => r.action === 'alarm.route' && r.source === `eventbridge:${event.id}`);
    expect(trail.length).toBeGreaterThanOrEqual(3);
    expect(trail.every((r) => r.after?.page === 'not needed')).toBe(true);
    expect(trail.map((r) => r.after?.pageWhy).sort()).toEqual([
      ...Array<string>(trail.length - 1).fill('a duplicate event'),
      'the halt workflow pages its outcome',
    ]);
  });

  it('an alarm storm (hundreds of state changes in a minute) acts at most once per service per cooldown, and the hourly budget holds', async () => {
    const sandbox = await openSandbox();
    const { maxAutomatedActionsPerHour } = sandbox.fleet.guardRails;
    const rollbackAlarms = Object.values(sandbox.fleet.services).flatMap((s) => s.rollbackAlarms.map((a) => ({ service: s.id, alarm: a.name })));
    expect(new Set(rollbackAlarms.map((a) => a.service)).size).toBeGreaterThan(maxAutomatedActionsPerHour);

    // Every rollback alarm flaps ALARM/OK through CloudWatch's own API: 300 state changes within 60 seconds.
    let changes = 0;
    for (let i = 0; changes < 300; i += 1) {
      for (const { alarm } of rollbackAlarms) {
        await setAlarm(sandbox, alarm, i % 2 === 0 ? 'ALARM' : 'OK', `flap ${i}`);
        changes += 1;
      }
      await sandbox.clock.advance(60_000 / Math.ceil(300 / rollbackAlarms.length));
    }
    await runUntilQuiet(sandbox);

    const rollbacks = executionsOf(sandbox, 'rollback');
    const perService = new Map<string, number>();
    for (const r of rollbacks) {
      const service = String((JSON.parse(r.input) as { service: string }).service);
      perService.set(service, (perService.get(service) ?? 0) + 1);
    }
    expect(Math.max(...perService.values())).toBe(1);
    expect(rollbacks.length).toBe(maxAutomatedActionsPerHour);

    const decisions = await routingDecisions(sandbox);
    const intoAlarm = decisions.filter((d) => d.decision !== 'rejected');
    expect(intoAlarm.filter((d) => d.decision === 'rollback-started')).toHaveLength(maxAutomatedActionsPerHour);
    expect(intoAlarm.some((d) => d.decision === 'suppressed' && d.why.includes('cooldown'))).toBe(true);
    expect(
      intoAlarm.some((d) => d.decision === 'suppressed' && d.why.includes(`budget of ${maxAutomatedActionsPerHour} automatic actions this hour is spent`)),
    ).toBe(true);
    // Over budget a human is paged.
    expect(sandbox.sns.messages.some((m) => m.message.includes('a human must decide'))).toBe(true);
  });
});
