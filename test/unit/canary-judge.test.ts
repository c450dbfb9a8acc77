import { describe, expect, it } from 'vitest';
import {
  alignSamples,
  describeAlignment,
  errorRateSeries,
  judgeCanary,
  judgeMetric,
  type JudgeSettings,
  type Series,
} from '../../functions/shared/domain/canary-judge';

const SETTINGS: JudgeSettings = {
  periodSeconds: 60,
  minSamples: 3,
  alpha: 0.05,
  effectSizeMargin: 0.25,
  errorRateTolerance: 0.005,
  observeMinutes: 5,
  inconclusiveLimitMinutes: 15,
  callBackDelaySeconds: 30,
};
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const minute = (i: number): number => T0 + i * 60_000;
const series = (values: readonly (number | undefined)[], from = 0): Series =>
  new Map(values.flatMap((v, i) => (v === undefined ? [] : [[minute(from + i), v] as const])));

/*
 * Recorded per-minute series of a canary at 5 % (RequestCount and HTTPCode_Target_5XX_Count per target group):
 * the old revision serves ~1,900 requests a minute with a stray error now and then; the new one ~100.
 */
const BASELINE_REQUESTS = series([1912, 1874, 1950, 1893, 1921, 1902]);
const BASELINE_ERRORS = series([1, undefined, 2, undefined, 1, undefined]);
const GOOD_CANARY_REQUESTS = series([101, 97, 104, 99, 96, 100]);
const GOOD_CANARY_ERRORS = series([undefined, undefined, 1, undefined, undefined, undefined]);
/** A high-error-rate image: a quarter of its requests fail. */
const BAD_CANARY_ERRORS = series([26, 24, 27, 25, 23, 25]);
const BASELINE_P99 = series([0.212, 0.198, 0.205, 0.231, 0.201, 0.209]);

function errorRates(canaryErrors: Series, canaryRequests = GOOD_CANARY_REQUESTS) {
  const aligned = alignSamples(errorRateSeries(BASELINE_REQUESTS, BASELINE_ERRORS), errorRateSeries(canaryRequests, canaryErrors), window(), {
    baselineHasTraffic: true,
    minSamples: 3,
  });
  return { name: '5xx-rate', failWhen: 'higher' as const, baseline: aligned.baseline, canary: aligned.canary };
}
const window = (start = 0, end = 6) => ({ start: minute(start), end: minute(end) });

describe('errorRateSeries', () => {
  it('divides errors by requests per minute; a missing 5XX datapoint with requests present is 0 errors', () => {
    const rates = errorRateSeries(series([100, 200, undefined, 0]), series([5, undefined, 3, 1]));
    expect([...rates.entries()]).toEqual([
      [minute(0), 0.05],
      [minute(1), 0],
    ]);
  });
});

describe('judgeCanary', () => {
  it('fails a clear regression: a quarter of the new revision’s requests fail', () => {
    const result = judgeCanary({ metrics: [errorRates(BAD_CANARY_ERRORS)], settings: SETTINGS });
    expect(result.verdict).toBe('FAIL');
    const [metric] = result.metrics;
    expect(metric).toMatchObject({ name: '5xx-rate', verdict: 'FAIL', samples: { baseline: 6, canary: 6 } });
    expect(metric?.p).toBeLessThan(0.05);
    expect(metric?.effectSize).toBeGreaterThan(100);
    expect(metric?.canaryMedian).toBeCloseTo(0.25, 1);
    expect(result.reason).toMatch(/^FAIL: 5xx-rate is higher on the new revision/);
  });

  it('fails three minutes of a clear regression: the smallest exact p-value with 3 samples each is 1/20 = alpha', () => {
    const metric = judgeMetric({ name: '5xx-rate', failWhen: 'higher', baseline: [0.0005, 0, 0.001], canary: [0.25, 0.24, 0.26] }, SETTINGS);
    expect(metric.p).toBe(0.05);
    expect(metric.verdict).toBe('FAIL');
  });

  it('passes equal revisions', () => {
    const result = judgeCanary({
      metrics: [
        errorRates(GOOD_CANARY_ERRORS),
        { name: 'p99-response-time', failWhen: 'higher', baseline: [...BASELINE_P99.values()], canary: [0.207, 0.219, 0.199, 0.204, 0.226, 0.203] },
      ],
      settings: SETTINGS,
    });
    expect(result.verdict).toBe('PASS');
    expect(result.metrics.map((m) => m.verdict)).toEqual(['PASS', 'PASS']);
  });

  it('passes identical samples without a test', () => {
    expect(judgeMetric({ name: 'x', failWhen: 'higher', baseline: [0, 0, 0], canary: [0, 0, 0] }, SETTINGS)).toMatchObject({
      verdict: 'PASS',
      p: 1,
      effectSize: 1,
    });
  });

  it('passes a significant difference within the margin (p99 10 % slower, margin 25 %)', () => {
    const baseline = [0.2, 0.201, 0.202, 0.203, 0.204, 0.205];
    const canary = baseline.map((v) => v * 1.1);
    const metric = judgeMetric({ name: 'p99-response-time', failWhen: 'higher', baseline, canary }, SETTINGS);
    expect(metric.p).toBeLessThan(0.05);
    expect(metric.effectSize).toBeCloseTo(1.1, 5);
    expect(metric.verdict).toBe('PASS');
    // The same shift fails once the margin is narrower than the effect.
    expect(judgeMetric({ name: 'p99-response-time', failWhen: 'higher', baseline, canary }, { ...SETTINGS, effectSizeMargin: 0.05 }).verdict).toBe('FAIL');
  });

  it('fails a metric that must not drop when it drops (failWhen lower)', () => {
    const metric = judgeMetric({ name: 'Trading/FillRate', failWhen: 'lower', baseline: [0.97, 0.96, 0.98, 0.97], canary: [0.41, 0.39, 0.44, 0.4] }, SETTINGS);
    expect(metric.verdict).toBe('FAIL');
    // A rise fails only a metric that must not rise.
    expect(
      judgeMetric({ name: 'Trading/FillRate', failWhen: 'higher', baseline: [0.41, 0.39, 0.44, 0.4], canary: [0.97, 0.96, 0.98, 0.97] }, SETTINGS).verdict,
    ).toBe('FAIL');
    expect(
      judgeMetric({ name: 'Trading/FillRate', failWhen: 'lower', baseline: [0.41, 0.39, 0.44, 0.4], canary: [0.97, 0.96, 0.98, 0.97] }, SETTINGS).verdict,
    ).toBe('PASS');
  });

  it('is INCONCLUSIVE with too few samples, even when the few samples look bad: it never promotes', () => {
    const few = errorRates(series([26, 24]), series([101, 97]));
    const result = judgeCanary({ metrics: [few, errorRates(GOOD_CANARY_ERRORS)], settings: SETTINGS });
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.metrics[0]).toMatchObject({ verdict: 'INCONCLUSIVE', p: null, samples: { canary: 2, baseline: 2 } });
    expect(result.reason).toContain('2 sample(s) of the new revision and 2 of the old, 3 needed');
  });

  it('is INCONCLUSIVE when a fleet metric has no data, whatever the others say', () => {
    const result = judgeCanary({
      metrics: [errorRates(GOOD_CANARY_ERRORS), { name: 'Trading/OrderRejectRate', failWhen: 'higher', baseline: [], canary: [] }],
      settings: SETTINGS,
    });
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(judgeCanary({ metrics: [], settings: SETTINGS }).verdict).toBe('INCONCLUSIVE');
  });

  it('fails when one metric fails even if another is still inconclusive', () => {
    const result = judgeCanary({
      metrics: [errorRates(BAD_CANARY_ERRORS), { name: 'Trading/OrderRejectRate', failWhen: 'higher', baseline: [], canary: [] }],
      settings: SETTINGS,
    });
    expect(result.verdict).toBe('FAIL');
  });
});

describe('alignSamples', () => {
  it('compares the revisions on the same minutes while the old one has production traffic', () => {
    const baseline = series([1, 2, undefined, 4, 5, 6]);
    const canary = series([10, 20, 30, undefined, 50, 60, 70]);
    const aligned = alignSamples(baseline, canary, window(1, 6), { baselineHasTraffic: true, minSamples: 3 });
    expect(aligned).toMatchObject({ mode: 'same-periods', baseline: [2, 5, 6], canary: [20, 50, 60] });
    expect(describeAlignment('5xx-rate', aligned)).toBeUndefined();
  });

  it('uses the old revision’s last minutes with traffic once it has 0 % of production, and says so', () => {
    // The old revision served minutes 0–4; the shift to 100 % happened at minute 5.
    const baseline = series([0.01, 0.02, 0.0, 0.01, 0.03]);
    const canary = series([0.0, 0.01, 0.0, 0.02], 5);
    const aligned = alignSamples(baseline, canary, window(5, 9), { baselineHasTraffic: false, minSamples: 3 });
    expect(aligned).toMatchObject({ mode: 'baseline-history', baseline: [0.02, 0.0, 0.01, 0.03], canary: [0.0, 0.01, 0.0, 0.02] });
    expect(aligned.baselinePeriods).toEqual([minute(1), minute(2), minute(3), minute(4)]);
    expect(describeAlignment('5xx-rate', aligned)).toContain('its last 4 period(s) with traffic (2026-03-02T10:01:00.000Z to 2026-03-02T10:04:00.000Z)');
  });
});

describe('an absolute tolerance', () => {
  // Recorded in the sandbox: a healthy revision's 5xx rate, three minutes each, every new minute a little above the old.
  const noise = { name: '5xx-rate', failWhen: 'higher' as const, baseline: [0.0017, 0.0018, 0.0019], canary: [0.0021, 0.0023, 0.0025] };

  it('passes a worsening of the medians within the tolerance, however significant its ratio looks', () => {
    expect(judgeMetric(noise, SETTINGS)).toMatchObject({ verdict: 'FAIL', p: 0.05 });
    const tolerated = judgeMetric({ ...noise, tolerance: 0.005 }, SETTINGS);
    expect(tolerated).toMatchObject({ verdict: 'PASS', p: 0.05 });
    expect(tolerated.reason).toContain('tolerance 0.005');
  });

  it('still fails a regression beyond it', () => {
    expect(judgeMetric({ ...noise, canary: [0.24, 0.25, 0.26], tolerance: 0.005 }, SETTINGS).verdict).toBe('FAIL');
  });
});
