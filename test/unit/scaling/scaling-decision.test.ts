/** The scaling decision core: every guarded case is refused, bounded or unchanged with its recorded reason. */
import { describe, expect, it } from 'vitest';
import { breachFromReasonData, chooseStep, decideScaling, type ScalePlan, type ScalingFacts } from '../../../functions/shared/domain/scaling';

const NOW = Date.parse('2026-01-05T10:00:00Z');

const plan = (changes: Partial<ScalePlan> = {}): ScalePlan => ({
  service: 'order-gateway',
  cluster: 'trading-prod',
  ecsServiceName: 'order-gateway',
  kind: 'alarm',
  source: 'alarm:prod-order-gateway-cpu-high',
  requestedBy: 'assure',
  reason: 'CPU high',
  eventId: 'event-1',
  desiredCount: null,
  direction: 'scale-out',
  breach: 5,
  alarm: 'prod-order-gateway-cpu-high',
  steps: [
    { lowerBound: 0, upperBound: 15, adjustment: 1 },
    { lowerBound: 15, adjustment: 2 },
  ],
  capacity: { min: 4, max: 8 },
  cooldownSeconds: { 'scale-out': 120, 'scale-in': 600 },
  scaleOutWhileHalted: false,
  ...changes,
});

const scaleIn = (changes: Partial<ScalePlan> = {}): ScalePlan =>
  plan({
    source: 'alarm:prod-order-gateway-cpu-low',
    alarm: 'prod-order-gateway-cpu-low',
    direction: 'scale-in',
    breach: -10,
    steps: [{ upperBound: 0, adjustment: -1 }],
    ...changes,
  });

const manual = (desiredCount: number, changes: Partial<ScalePlan> = {}): ScalePlan =>
  plan({ kind: 'manual', source: 'cli', requestedBy: 'alice', direction: null, breach: null, alarm: null, steps: [], desiredCount, ...changes });

const facts = (p: ScalePlan, changes: Partial<ScalingFacts> = {}): ScalingFacts => ({
  plan: p,
  desired: 4,
  running: 4,
  deploying: null,
  halt: { readable: true, halted: false },
  cooldownUntil: { 'scale-out': null, 'scale-in': null },
  now: NOW,
  ...changes,
});

describe('chooseStep (Application Auto Scaling step adjustments)', () => {
  const steps = plan().steps;
  it('lower bound inclusive, upper bound exclusive', () => {
    expect(chooseStep(steps, 0).step.adjustment).toBe(1);
    expect(chooseStep(steps, 14.99).step.adjustment).toBe(1);
    expect(chooseStep(steps, 15).step.adjustment).toBe(2);
    expect(chooseStep(steps, 400).step.adjustment).toBe(2);
  });
  it('no breach known: the mildest step', () => {
    expect(chooseStep(steps, null)).toMatchObject({ step: { adjustment: 1 }, how: 'no breach known: the mildest step' });
  });
  it('a breach no step covers: the nearest step', () => {
    expect(chooseStep(steps, -3)).toMatchObject({ step: { adjustment: 1 } });
    expect(chooseStep(steps, -3).how).toContain('is in no step: the nearest');
    expect(
      chooseStep(
        [
          { lowerBound: 0, upperBound: 10, adjustment: 1 },
          { lowerBound: 20, adjustment: 3 },
        ],
        18,
      ).step.adjustment,
    ).toBe(3);
  });
});

describe('decideScaling', () => {
  it('scales out by the step the breach falls in', () => {
    expect(decideScaling(facts(plan({ breach: 5 })))).toMatchObject({
      outcome: 'scale',
      direction: 'scale-out',
      from: 4,
      to: 5,
      adjustment: 1,
      bound: null,
      refusal: null,
    });
    const big = decideScaling(facts(plan({ breach: 17.5 })));
    expect(big).toMatchObject({ outcome: 'scale', from: 4, to: 6, adjustment: 2 });
    expect(big.reason).toBe('scale out 4 → 6: prod-order-gateway-cpu-high: breach 17.5 falls in [15, +∞) +2 → 4 + 2 = 6');
  });

  it('bounded by max: records "bounded by max 8"', () => {
    const decision = decideScaling(facts(plan({ breach: 20 }), { desired: 7 }));
    expect(decision).toMatchObject({ outcome: 'scale', from: 7, to: 8, requested: 9, bound: 'bounded by max 8' });
    expect(decision.reason).toContain('bounded by max 8');
  });

  it('already at max: unchanged, "did nothing because"', () => {
    const decision = decideScaling(facts(plan({ breach: 20 }), { desired: 8 }));
    expect(decision).toMatchObject({ outcome: 'unchanged', from: 8, to: 8, bound: 'bounded by max 8' });
    expect(decision.reason).toMatch(/^did nothing because order-gateway is already at 8 \(bounded by max 8\)/);
  });

  it('below min: a scale-in alarm at min does nothing; a manual request below min is bounded by min', () => {
    expect(decideScaling(facts(scaleIn(), { desired: 4 }))).toMatchObject({ outcome: 'unchanged', bound: 'bounded by min 4' });
    const bounded = decideScaling(facts(manual(2), { desired: 6 }));
    expect(bounded).toMatchObject({ outcome: 'scale', direction: 'scale-in', from: 6, to: 4, bound: 'bounded by min 4' });
  });

  it('a scale-in alarm never adds tasks to reach min (a hard-stopped service stays at 0)', () => {
    expect(decideScaling(facts(scaleIn(), { desired: 0 }))).toMatchObject({ outcome: 'unchanged', from: 0, to: 0 });
  });

  it('no-op: a manual request for the current count', () => {
    const decision = decideScaling(facts(manual(4)));
    expect(decision).toMatchObject({ outcome: 'unchanged', from: 4, to: 4 });
    expect(decision.reason).toBe('did nothing because order-gateway is already at 4; cli asked for 4');
  });

  it('halted: scale-out refused with the halt named', () => {
    const decision = decideScaling(facts(plan(), { halt: { readable: true, halted: true, haltId: 'halt-1', reason: 'loss limit' } }));
    expect(decision).toMatchObject({ outcome: 'refused', refusal: 'halted', haltId: 'halt-1', from: 4, to: 4 + 1 });
    expect(decision.reason).toMatch(/^did nothing because trading is halted \(halt-1: loss limit\) and order-gateway may not scale out while halted/);
  });

  it('halted: allowed when scaleOutWhileHalted; scale-in always allowed', () => {
    const halted = { halt: { readable: true, halted: true, haltId: 'halt-1' } } as const;
    expect(decideScaling(facts(plan({ scaleOutWhileHalted: true }), halted)).outcome).toBe('scale');
    expect(decideScaling(facts(scaleIn(), { ...halted, desired: 6 })).outcome).toBe('scale');
  });

  it('halt flag unreadable: scale-out fails closed; scale-in goes ahead', () => {
    const unreadable = { halt: { readable: false, problem: '/assure/prod/halt is not JSON' } } as const;
    expect(decideScaling(facts(plan(), unreadable))).toMatchObject({ outcome: 'refused', refusal: 'halt-flag-unreadable' });
    expect(decideScaling(facts(scaleIn(), { ...unreadable, desired: 6 })).outcome).toBe('scale');
  });

  it('deploying: scale-in refused; scale-out allowed', () => {
    const deploying = { deploying: 'deploy lock held by order-gateway-2-4-0' };
    const refused = decideScaling(facts(scaleIn(), { ...deploying, desired: 6 }));
    expect(refused).toMatchObject({ outcome: 'refused', refusal: 'deploying', from: 6, to: 5 });
    expect(refused.reason).toMatch(/^did nothing because a deployment of order-gateway is running \(deploy lock held by order-gateway-2-4-0\)/);
    expect(decideScaling(facts(plan(), deploying)).outcome).toBe('scale');
    expect(decideScaling(facts(manual(5), { ...deploying, desired: 6 })).refusal).toBe('deploying');
  });

  it('cooldown: an automatic action in its direction is refused; a scale-in also during a scale-out cooldown', () => {
    const until = NOW + 60_000;
    const out = decideScaling(facts(plan(), { cooldownUntil: { 'scale-out': until, 'scale-in': null } }));
    expect(out).toMatchObject({ outcome: 'refused', refusal: 'cooldown' });
    expect(out.reason).toContain('order-gateway is in its scale-out cooldown until 2026-01-05T10:01:00.000Z');
    expect(decideScaling(facts(scaleIn(), { desired: 6, cooldownUntil: { 'scale-out': until, 'scale-in': null } })).refusal).toBe('cooldown');
    // A scale-in cooldown does not hold back a scale-out.
    expect(decideScaling(facts(plan(), { cooldownUntil: { 'scale-out': null, 'scale-in': until } })).outcome).toBe('scale');
    // An expired cooldown holds nothing.
    expect(decideScaling(facts(plan(), { cooldownUntil: { 'scale-out': NOW - 1, 'scale-in': null } })).outcome).toBe('scale');
  });

  it('cooldown applies to scheduled changes; a manual change is not refused by it', () => {
    const cooling = { cooldownUntil: { 'scale-out': NOW + 60_000, 'scale-in': null } };
    expect(decideScaling(facts(manual(6, { kind: 'schedule', source: 'schedule:london-open', requestedBy: 'scheduler' }), cooling)).refusal).toBe('cooldown');
    expect(decideScaling(facts(manual(6), cooling))).toMatchObject({ outcome: 'scale', to: 6 });
  });

  it('manual scaling is bounded by halt and max like any other', () => {
    const halted = { halt: { readable: true, halted: true, haltId: 'halt-1' } } as const;
    expect(decideScaling(facts(manual(6), halted)).refusal).toBe('halted');
    expect(decideScaling(facts(manual(20)))).toMatchObject({ outcome: 'scale', to: 8, bound: 'bounded by max 8' });
  });
});

describe('breachFromReasonData', () => {
  it('averages the datapoints and subtracts the threshold', () => {
    expect(breachFromReasonData(JSON.stringify({ recentDatapoints: [86, 84], threshold: 70 }))).toBe(15);
  });
  it('is undefined without usable data', () => {
    expect(breachFromReasonData(undefined)).toBeUndefined();
    expect(breachFromReasonData('not json')).toBeUndefined();
    expect(breachFromReasonData(JSON.stringify({ recentDatapoints: [], threshold: 70 }))).toBeUndefined();
  });
});
