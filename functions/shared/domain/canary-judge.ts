/**
 * The canary judge: compares the new revision (canary) with the old one (baseline)
 * metric by metric, on per-period samples, the way Kayenta's MannWhitneyClassifier
 * does. A metric FAILs when the new revision is worse with a one-sided Mann-Whitney
 * p-value at most alpha AND an effect size (the ratio of means, new / old) beyond the
 * allowed margin (p ≤ alpha, not <: with 3 samples per revision, the fleet's minimum,
 * the smallest exact p-value is 1/C(6,3) = 0.05, so 3 minutes of a clear regression
 * fail at alpha 0.05); it is INCONCLUSIVE with fewer than minSamples samples per
 * revision (no data counts as none); otherwise it PASSes.
 * The canary's verdict: FAIL if any metric fails, else INCONCLUSIVE if any metric
 * is, else PASS. INCONCLUSIVE never promotes.
 *
 * Samples (see alignSamples): one per period (a minute by default). The new
 * revision's samples are the periods since the step began in which it had data.
 * While the old revision still serves production traffic, the two are compared on
 * the SAME periods (only periods where both have data count). Once the old revision
 * has 0 % of production traffic (blue/green after the shift, a canary's last step,
 * POST_PRODUCTION_TRAFFIC_SHIFT) it has no samples of its own in the window, so its
 * baseline is its LAST periods that had traffic (as many as the new revision has,
 * at least minSamples); the verdict says so.
 */
import type { ReleaseSettings } from '../../../lib/fleet/fleet-schema';
import { mannWhitneyU, median } from './mann-whitney';

export type JudgeSettings = ReleaseSettings['judge'];
export type CanaryVerdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';
export type FailWhen = 'higher' | 'lower';

/** The load balancer's metrics every judged service is compared on. */
export const ERROR_RATE_METRIC = '5xx-rate';
export const RESPONSE_TIME_METRIC = 'p99-response-time';

export interface MetricSamples {
  readonly name: string;
  readonly failWhen: FailWhen;
  readonly baseline: readonly number[];
  readonly canary: readonly number[];
  /**
   * A worsening of the medians by no more than this (in the metric's unit) is never a failure: a 5xx rate
   * of 0.23 % against 0.18 % is a significant-looking ratio of noise, not a bad release.
   */
  readonly tolerance?: number;
}

export interface MetricJudgement {
  readonly name: string;
  readonly failWhen: FailWhen;
  readonly verdict: CanaryVerdict;
  readonly baselineMedian: number | null;
  readonly canaryMedian: number | null;
  /** One-sided p-value that the new revision is worse (null without a test). */
  readonly p: number | null;
  /** Mean of the new revision / mean of the old (null when undefined, e.g. the old mean is 0). */
  readonly effectSize: number | null;
  /** Hodges–Lehmann shift of the new revision relative to the old. */
  readonly shift: number | null;
  readonly samples: { readonly baseline: number; readonly canary: number };
  readonly reason: string;
}

export interface CanaryJudgement {
  readonly verdict: CanaryVerdict;
  readonly metrics: readonly MetricJudgement[];
  readonly reason: string;
}

const finite = (value: number | null | undefined): number | null => (value !== null && value !== undefined && Number.isFinite(value) ? value : null);
const mean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;
const format = (value: number | null): string => (value === null ? 'n/a' : Number(value.toPrecision(4)).toString());

/**
 * Kayenta's mean-ratio effect size (new / old). An old mean of 0 with a non-zero new
 * mean is an unbounded increase (Infinity); 0 / 0 is no effect (1).
 */
export function meanRatio(baseline: readonly number[], canary: readonly number[]): number {
  const b = mean(baseline);
  const c = mean(canary);
  if (b === 0) return c === 0 ? 1 : c > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return c / b;
}

/** Whether the effect lies beyond the margin in the failing direction ("higher": above 1 + margin; "lower": below 1 / (1 + margin)). */
export function beyondMargin(effectSize: number, failWhen: FailWhen, margin: number): boolean {
  if (Number.isNaN(effectSize)) return true; // Kayenta: an effect size that cannot be computed is ignored.
  return failWhen === 'higher' ? effectSize > 1 + margin : effectSize < 1 / (1 + margin);
}

export function judgeMetric(metric: MetricSamples, settings: Pick<JudgeSettings, 'minSamples' | 'alpha' | 'effectSizeMargin'>): MetricJudgement {
  const baseline = metric.baseline.filter((v) => Number.isFinite(v));
  const canary = metric.canary.filter((v) => Number.isFinite(v));
  const common = {
    name: metric.name,
    failWhen: metric.failWhen,
    baselineMedian: finite(median(baseline)),
    canaryMedian: finite(median(canary)),
    samples: { baseline: baseline.length, canary: canary.length },
  };
  if (baseline.length < settings.minSamples || canary.length < settings.minSamples) {
    return {
      ...common,
      verdict: 'INCONCLUSIVE',
      p: null,
      effectSize: null,
      shift: null,
      reason: `${metric.name}: ${canary.length} sample(s) of the new revision and ${baseline.length} of the old, ${settings.minSamples} needed`,
    };
  }
  const sortedB = [...baseline].sort((a, b) => a - b);
  const sortedC = [...canary].sort((a, b) => a - b);
  if (sortedB.length === sortedC.length && sortedB.every((v, i) => v === sortedC[i])) {
    return { ...common, verdict: 'PASS', p: 1, effectSize: 1, shift: 0, reason: `${metric.name}: the new and old revisions' samples are identical` };
  }
  const test = mannWhitneyU(canary, baseline);
  const p = metric.failWhen === 'higher' ? test.pGreater : test.pLess;
  const effect = meanRatio(baseline, canary);
  const significant = p <= settings.alpha;
  const [canaryMedian, baselineMedian] = [median(canary), median(baseline)];
  const worsening = metric.failWhen === 'higher' ? canaryMedian - baselineMedian : baselineMedian - canaryMedian;
  const large = beyondMargin(effect, metric.failWhen, settings.effectSizeMargin) && !(worsening <= (metric.tolerance ?? 0));
  const verdict: CanaryVerdict = significant && large ? 'FAIL' : 'PASS';
  const numbers = `median ${format(common.canaryMedian)} vs ${format(common.baselineMedian)}, p=${format(p)} (alpha ${settings.alpha}), effect ×${
    Number.isFinite(effect) ? format(effect) : '∞'
  } (margin ${settings.effectSizeMargin * 100} %${metric.tolerance ? `, tolerance ${format(metric.tolerance)}` : ''})`;
  const why =
    verdict === 'FAIL'
      ? `${metric.name} is ${metric.failWhen} on the new revision: ${numbers}`
      : `${metric.name} ${significant ? 'differs, within the margin' : 'shows no significant regression'}: ${numbers}`;
  return { ...common, verdict, p, effectSize: finite(effect), shift: finite(test.shift), reason: why };
}

export function judgeCanary(input: {
  readonly metrics: readonly MetricSamples[];
  readonly settings: Pick<JudgeSettings, 'minSamples' | 'alpha' | 'effectSizeMargin'>;
  /** How the samples were taken (e.g. the old revision's history used as baseline), added to the reason. */
  readonly notes?: readonly string[];
}): CanaryJudgement {
  const metrics = input.metrics.map((m) => judgeMetric(m, input.settings));
  const failed = metrics.filter((m) => m.verdict === 'FAIL');
  const inconclusive = metrics.filter((m) => m.verdict === 'INCONCLUSIVE');
  const verdict: CanaryVerdict = metrics.length === 0 ? 'INCONCLUSIVE' : failed.length > 0 ? 'FAIL' : inconclusive.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  const reasons =
    metrics.length === 0
      ? ['no metrics to judge']
      : verdict === 'FAIL'
        ? failed.map((m) => m.reason)
        : verdict === 'INCONCLUSIVE'
          ? inconclusive.map((m) => m.reason)
          : [`${metrics.length} metric(s) show no regression beyond the margin`];
  return { verdict, metrics, reason: `${verdict}: ${[...reasons, ...(input.notes ?? [])].join('; ')}` };
}

/* ---- Samples ---- */

/** One value per period, keyed by the period's start (epoch milliseconds). */
export type Series = ReadonlyMap<number, number>;

/**
 * The 5xx rate per period: HTTPCode_Target_5XX_Count / RequestCount of the same
 * period. A period with requests and no 5XX datapoint had no errors (the load
 * balancer publishes nothing for zero); a period without requests has no sample.
 */
export function errorRateSeries(requests: Series, errors: Series): Series {
  const rates = new Map<number, number>();
  for (const [at, count] of requests) {
    if (!(count > 0)) continue;
    rates.set(at, (errors.get(at) ?? 0) / count);
  }
  return rates;
}

export interface AlignedSamples {
  readonly baseline: number[];
  readonly canary: number[];
  /** `same-periods`: compared on the same periods; `baseline-history`: the old revision's last periods with traffic. */
  readonly mode: 'same-periods' | 'baseline-history';
  /** Periods (epoch ms) the baseline samples come from. */
  readonly baselinePeriods: number[];
}

/**
 * Aligns the two revisions' samples (see the module comment): the new revision's
 * periods in [start, end); the old revision's on the same periods while it still
 * has production traffic, or else its last periods with data before `end`.
 */
export function alignSamples(
  baseline: Series,
  canary: Series,
  window: { readonly start: number; readonly end: number },
  options: { readonly baselineHasTraffic: boolean; readonly minSamples: number },
): AlignedSamples {
  const canaryPeriods = [...canary.keys()].filter((at) => at >= window.start && at < window.end).sort((a, b) => a - b);
  if (options.baselineHasTraffic) {
    const periods = canaryPeriods.filter((at) => baseline.has(at));
    return {
      mode: 'same-periods',
      baseline: periods.map((at) => baseline.get(at) as number),
      canary: periods.map((at) => canary.get(at) as number),
      baselinePeriods: periods,
    };
  }
  const wanted = Math.max(options.minSamples, canaryPeriods.length);
  const history = [...baseline.keys()]
    .filter((at) => at < window.end)
    .sort((a, b) => b - a)
    .slice(0, wanted)
    .reverse();
  return {
    mode: 'baseline-history',
    baseline: history.map((at) => baseline.get(at) as number),
    canary: canaryPeriods.map((at) => canary.get(at) as number),
    baselinePeriods: history,
  };
}

/** The sentence a verdict carries when the baseline is the old revision's history. */
export function describeAlignment(name: string, aligned: AlignedSamples): string | undefined {
  if (aligned.mode === 'same-periods' || aligned.baselinePeriods.length === 0) return undefined;
  const from = new Date(aligned.baselinePeriods[0] as number).toISOString();
  const to = new Date(aligned.baselinePeriods[aligned.baselinePeriods.length - 1] as number).toISOString();
  return `${name}: the old revision has 0 % of production traffic, so its baseline is its last ${aligned.baselinePeriods.length} period(s) with traffic (${from} to ${to})`;
}
