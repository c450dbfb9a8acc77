/**
 * The scale workflow's request, plan and decision, and the decision itself as a
 * pure function of what the workflow read (ECS, the halt flag, the deploy lock,
 * the cooldowns): every "scale", "unchanged" and "refused" with its reason.
 *
 * Rules (README "Scaling"):
 * - the target: an alarm's step adjustment on the current desired count, chosen
 *   from the breach (metric − threshold) as Application Auto Scaling chooses it
 *   (lower bound inclusive, upper exclusive); no breach known → the mildest step;
 *   a breach no step covers → the step whose interval is nearest to it. A
 *   manual or scheduled request names the count.
 * - bounded by capacity.min/max ("bounded by max 8"); an alarm's bound never
 *   reverses its direction (a scale-in alarm never adds tasks to reach min).
 * - scale-out is refused while trading is halted for the service (unless
 *   scaleOutWhileHalted) and when the halt flag cannot be read (fail closed);
 *   scale-in is always allowed by the halt.
 * - scale-in is refused while a deployment of the service runs (its deploy
 *   lock is held, or ECS shows a rollout in progress); scale-out is not (extra
 *   tasks do not disturb a rolling deployment).
 * - cooldowns per direction refuse alarm and scheduled actions; a scale-in is
 *   also refused during a scale-out cooldown (capacity just added is not taken
 *   away before its effect shows). Manual actions are not refused by a
 *   cooldown (a person decided) but start one, like every action.
 */
import * as z from 'zod';
import type { ScalingAlarmDefinition } from '../../../lib/fleet/fleet-schema';

export const SCALE_DIRECTIONS = ['scale-out', 'scale-in'] as const;
export type ScaleDirection = (typeof SCALE_DIRECTIONS)[number];

/** The documented input of the scale state machine (manual, alarm and scheduled). */
export const scaleRequestSchema = z.strictObject({
  service: z.string().min(1, 'is required'),
  /** Manual and scheduled: the task count to set (bounded by capacity.min/max). */
  desiredCount: z.number().int().min(0).max(5000).optional(),
  /** Alarm-driven: which way the alarm scales. */
  direction: z.enum(SCALE_DIRECTIONS).optional(),
  /** Alarm-driven: metric − threshold, from the alarm's reasonData. */
  breach: z.number().finite().optional(),
  /** Alarm-driven: the alarm's name (also in `source`). */
  alarm: z.string().min(1).optional(),
  /** `console`, `cli`, `alarm:<name>` or `schedule:<name>`. */
  source: z.string().min(1).max(200).default('console'),
  requestedBy: z.string().min(1, 'is required').max(128),
  reason: z.string().min(1).max(500).optional(),
  /** The alarm event that asked, for the record. */
  eventId: z.string().min(1).max(128).optional(),
});
export type ScaleRequest = z.output<typeof scaleRequestSchema>;

const stepSchema = z.object({ lowerBound: z.number().optional(), upperBound: z.number().optional(), adjustment: z.number().int() });

/** What "Validate scale request" resolves, carried in the execution's state. */
export const scalePlanSchema = z.object({
  service: z.string(),
  cluster: z.string(),
  ecsServiceName: z.string(),
  kind: z.enum(['manual', 'alarm', 'schedule']),
  source: z.string(),
  requestedBy: z.string(),
  reason: z.string(),
  eventId: z.string().nullable(),
  desiredCount: z.number().int().nullable(),
  direction: z.enum(SCALE_DIRECTIONS).nullable(),
  breach: z.number().nullable(),
  alarm: z.string().nullable(),
  steps: z.array(stepSchema),
  capacity: z.object({ min: z.number().int(), max: z.number().int() }),
  cooldownSeconds: z.object({ 'scale-out': z.number().int(), 'scale-in': z.number().int() }),
  scaleOutWhileHalted: z.boolean(),
});
export type ScalePlan = z.output<typeof scalePlanSchema>;

export const SCALE_OUTCOMES = ['scale', 'unchanged', 'refused', 'suppressed', 'dry-run'] as const;
export type ScaleOutcome = (typeof SCALE_OUTCOMES)[number];
export const SCALE_REFUSALS = ['halted', 'halt-flag-unreadable', 'deploying', 'cooldown'] as const;
export type ScaleRefusal = (typeof SCALE_REFUSALS)[number];

export const scaleDecisionSchema = z.object({
  outcome: z.enum(SCALE_OUTCOMES),
  direction: z.enum(SCALE_DIRECTIONS).nullable(),
  from: z.number().int(),
  to: z.number().int(),
  /** What the request or step asked for, before bounds. */
  requested: z.number().int(),
  adjustment: z.number().int().nullable(),
  /** `bounded by max 8` when min/max changed the target. */
  bound: z.string().nullable(),
  refusal: z.enum(SCALE_REFUSALS).nullable(),
  /** The halt that refused a scale-out (for paging once per halt). */
  haltId: z.string().nullable(),
  reason: z.string(),
});
export type ScaleDecision = z.output<typeof scaleDecisionSchema>;

export type HaltView =
  | { readonly readable: true; readonly halted: boolean; readonly haltId?: string; readonly reason?: string }
  | { readonly readable: false; readonly problem: string };

/** What the decision reads; all of it gathered by "Decide desired count". */
export interface ScalingFacts {
  readonly plan: ScalePlan;
  readonly desired: number;
  readonly running: number;
  /** Why a deployment of the service counts as running, or null. */
  readonly deploying: string | null;
  readonly halt: HaltView;
  /** Epoch ms until which each direction's cooldown holds (null: none). */
  readonly cooldownUntil: Readonly<Record<ScaleDirection, number | null>>;
  readonly now: number;
}

type Step = z.output<typeof stepSchema>;

const inStep = (step: Step, breach: number): boolean =>
  (step.lowerBound === undefined || breach >= step.lowerBound) && (step.upperBound === undefined || breach < step.upperBound);

const distance = (step: Step, breach: number): number =>
  step.lowerBound !== undefined && breach < step.lowerBound
    ? step.lowerBound - breach
    : step.upperBound !== undefined && breach >= step.upperBound
      ? breach - step.upperBound
      : 0;

/** The step adjustment for a breach, and how it was chosen. */
export function chooseStep(steps: readonly Step[], breach: number | null): { readonly step: Step; readonly how: string } {
  const mildest = [...steps].sort((a, b) => Math.abs(a.adjustment) - Math.abs(b.adjustment))[0];
  if (!mildest) throw new Error('A scaling alarm has at least one step');
  if (breach === null) return { step: mildest, how: 'no breach known: the mildest step' };
  const matching = steps.find((s) => inStep(s, breach));
  if (matching) return { step: matching, how: `breach ${formatNumber(breach)} falls in ${describeStep(matching)}` };
  const nearest = [...steps].sort((a, b) => distance(a, breach) - distance(b, breach) || Math.abs(a.adjustment) - Math.abs(b.adjustment))[0] ?? mildest;
  return { step: nearest, how: `breach ${formatNumber(breach)} is in no step: the nearest, ${describeStep(nearest)}` };
}

export const describeStep = (s: Step): string => `[${s.lowerBound ?? '-∞'}, ${s.upperBound ?? '+∞'}) ${s.adjustment > 0 ? '+' : ''}${s.adjustment}`;

const formatNumber = (n: number): string => String(Number(n.toFixed(3)));

const word = (direction: ScaleDirection): string => (direction === 'scale-out' ? 'scale out' : 'scale in');

/** The scaling decision; see the module comment for the rules. */
export function decideScaling(facts: ScalingFacts): ScaleDecision {
  const { plan, desired: from } = facts;
  const { min, max } = plan.capacity;
  let requested: number;
  let adjustment: number | null = null;
  let why: string;
  if (plan.kind === 'alarm') {
    const { step, how } = chooseStep(plan.steps, plan.breach);
    adjustment = step.adjustment;
    requested = Math.max(0, from + adjustment);
    why = `${plan.alarm ?? 'alarm'}: ${how} → ${from} ${adjustment > 0 ? '+' : '−'} ${Math.abs(adjustment)} = ${requested}`;
  } else {
    requested = plan.desiredCount ?? from;
    why = `${plan.source} asked for ${requested}`;
  }
  let to = Math.min(max, Math.max(min, requested));
  // An alarm's bounds never turn it around: below min a scale-in alarm does nothing, it does not add tasks.
  if (plan.direction === 'scale-out') to = Math.max(from, to);
  if (plan.direction === 'scale-in') to = Math.min(from, to);
  const bound = to !== requested ? (requested > max ? `bounded by max ${max}` : requested < min ? `bounded by min ${min}` : null) : null;
  const base = { from, to, requested, adjustment, bound, haltId: null };
  const withBound = bound ? `${why}; ${bound}` : why;

  if (to === from) {
    const already = bound ? `${plan.service} is already at ${from} (${bound})` : `${plan.service} is already at ${from}`;
    return { ...base, outcome: 'unchanged', direction: plan.direction, refusal: null, reason: `did nothing because ${already}; ${why}` };
  }
  const direction: ScaleDirection = to > from ? 'scale-out' : 'scale-in';
  const refuse = (refusal: ScaleRefusal, because: string, haltId: string | null = null): ScaleDecision => ({
    ...base,
    haltId,
    outcome: 'refused',
    direction,
    refusal,
    reason: `did nothing because ${because} (would ${word(direction)} ${from} → ${to}; ${withBound})`,
  });

  if (direction === 'scale-out' && !plan.scaleOutWhileHalted) {
    if (!facts.halt.readable) return refuse('halt-flag-unreadable', `the halt flag cannot be read (${facts.halt.problem}): failing closed, no scale-out`);
    if (facts.halt.halted) {
      return refuse(
        'halted',
        `trading is halted (${facts.halt.haltId ?? 'unknown halt'}: ${facts.halt.reason ?? 'no reason given'}) and ${plan.service} may not scale out while halted`,
        facts.halt.haltId ?? 'unknown',
      );
    }
  }
  if (direction === 'scale-in' && facts.deploying)
    return refuse('deploying', `a deployment of ${plan.service} is running (${facts.deploying}): no scale-in during a deployment`);
  if (plan.kind !== 'manual') {
    const own = facts.cooldownUntil[direction];
    if (own !== null && own > facts.now) return refuse('cooldown', `${plan.service} is in its ${direction} cooldown until ${new Date(own).toISOString()}`);
    const out = facts.cooldownUntil['scale-out'];
    if (direction === 'scale-in' && out !== null && out > facts.now) {
      return refuse(
        'cooldown',
        `${plan.service} scaled out recently (scale-out cooldown until ${new Date(out).toISOString()}): capacity just added is not taken away`,
      );
    }
  }
  return { ...base, outcome: 'scale', direction, refusal: null, reason: `${word(direction)} ${from} → ${to}: ${withBound}` };
}

/** Control-state keys (the guard-rail claims' `cooldown#` prefix), and the last decision per service for `assure scale status`. */
export const scalingCooldownKey = (service: string, direction: ScaleDirection): string => `cooldown#scale#${service}#${direction}`;
export const lastScalingDecisionKey = (service: string): string => `scale#last#${service}`;

/** Breach (metric − threshold) from an alarm state's reasonData, averaging its datapoints (Application Auto Scaling's default aggregation). */
export function breachFromReasonData(reasonData: string | undefined): number | undefined {
  if (!reasonData) return undefined;
  try {
    const data = JSON.parse(reasonData) as { recentDatapoints?: unknown; threshold?: unknown };
    const points = Array.isArray(data.recentDatapoints) ? data.recentDatapoints.filter((p): p is number => typeof p === 'number' && Number.isFinite(p)) : [];
    if (points.length === 0 || typeof data.threshold !== 'number') return undefined;
    const average = points.reduce((a, b) => a + b, 0) / points.length;
    return Number((average - data.threshold).toFixed(6));
  } catch {
    return undefined;
  }
}

/** The plan's step list from a scaling alarm definition. */
export const stepsOf = (alarm: ScalingAlarmDefinition | undefined): Step[] =>
  (alarm?.steps ?? []).map((s) => ({
    ...(s.lowerBound === undefined ? {} : { lowerBound: s.lowerBound }),
    ...(s.upperBound === undefined ? {} : { upperBound: s.upperBound }),
    adjustment: s.adjustment,
  }));
