/**
 * How CloudWatch decides a metric alarm's state from its datapoints, as the
 * CloudWatch User Guide documents it ("Configuring how CloudWatch alarms treat
 * missing data", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html,
 * formerly the "How alarm state is evaluated when data is missing" section of
 * "Using Amazon CloudWatch alarms"):
 *
 * - CloudWatch retrieves more datapoints than EvaluationPeriods (N): the
 *   evaluation range. The guide's tables use N = 3 with a range of 5.
 * - With at least N real datapoints in the range, the most recent N real ones
 *   are evaluated (missing periods between them are skipped) and TreatMissingData
 *   plays no part.
 * - With fewer, every real datapoint in the range is evaluated and the rest are
 *   filled per TreatMissingData, as few as possible (N − real).
 * - ALARM when at least DatapointsToAlarm (M) of the evaluated ones breach, OK
 *   otherwise; except that with `missing` and `ignore` missing datapoints are not
 *   filled, so:
 *   - no real datapoint: `missing` → INSUFFICIENT_DATA, `ignore` → keep state;
 *   - a real non-breaching datapoint (and fewer than M breaching): OK;
 *   - only breaching ones, fewer than M: `ignore` keeps the state; `missing`
 *     goes to ALARM when the oldest breaching datapoint is at least M periods
 *     old ("Avoiding premature transitions to alarm state"), else to
 *     INSUFFICIENT_DATA (the table row `- - - - X` of the guide's earlier edition).
 *
 * Pure: the caller turns datapoints into breaching / not breaching / missing.
 */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** One period of the evaluation range: breaching, not breaching, or missing (`undefined`). */
export type PeriodOutcome = boolean | undefined;

export interface EvaluationSettings {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

export interface AlarmEvaluation {
  /** The new state, or `undefined` to keep the current one (`ignore`). */
  readonly state: AlarmState | undefined;
  /** Indexes into the range (oldest first) of the real datapoints evaluated. */
  readonly evaluated: readonly number[];
  /** Missing datapoints filled in per TreatMissingData. */
  readonly filled: number;
  /** Breaching datapoints among those evaluated, filled ones included. */
  readonly breaching: number;
  /** Which rule decided. */
  readonly rule: 'real-datapoints' | 'filled' | 'no-data' | 'premature-alarm' | 'too-few-breaching';
}

/**
 * The evaluation range's length, in periods. AWS does not publish the formula
 * ("depends on the length of the alarm period and whether it is based on a
 * metric with standard resolution or high resolution"); its examples use N + 2.
 */
export const evaluationRangeLength = (evaluationPeriods: number): number => evaluationPeriods + 2;

/** The alarm's state for a range of periods, oldest first (see the module comment). */
export function evaluateAlarm(range: readonly PeriodOutcome[], settings: EvaluationSettings): AlarmEvaluation {
  const { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData } = settings;
  const real = range.flatMap((outcome, index) => (outcome === undefined ? [] : [index]));
  const countBreaching = (indexes: readonly number[]): number => indexes.filter((i) => range[i] === true).length;

  if (real.length >= n) {
    const evaluated = real.slice(-n);
    const breaching = countBreaching(evaluated);
    return { state: breaching >= m ? 'ALARM' : 'OK', evaluated, filled: 0, breaching, rule: 'real-datapoints' };
  }

  const filled = n - real.length;
  if (treatMissingData === 'breaching' || treatMissingData === 'notBreaching') {
    const breaching = countBreaching(real) + (treatMissingData === 'breaching' ? filled : 0);
    return { state: breaching >= m ? 'ALARM' : 'OK', evaluated: real, filled, breaching, rule: 'filled' };
  }

  // `missing` and `ignore`: only the real datapoints count.
  const breaching = countBreaching(real);
  if (real.length === 0)
    return { state: treatMissingData === 'missing' ? 'INSUFFICIENT_DATA' : undefined, evaluated: real, filled: 0, breaching, rule: 'no-data' };
  if (breaching >= m) return { state: 'ALARM', evaluated: real, filled: 0, breaching, rule: 'real-datapoints' };
  if (breaching < real.length) return { state: 'OK', evaluated: real, filled: 0, breaching, rule: 'real-datapoints' };
  if (treatMissingData === 'ignore') return { state: undefined, evaluated: real, filled: 0, breaching, rule: 'too-few-breaching' };
  const oldestAge = range.length - (real[0] ?? range.length);
  return oldestAge >= m
    ? { state: 'ALARM', evaluated: real, filled: 0, breaching, rule: 'premature-alarm' }
    : { state: 'INSUFFICIENT_DATA', evaluated: real, filled: 0, breaching, rule: 'too-few-breaching' };
}
