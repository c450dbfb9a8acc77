/**
 * CloudWatch `GetMetricStatistics`, as the API Reference documents it
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html):
 *
 * - The metric is the namespace, the name and the full dimension set: "CloudWatch treats
 *   each unique combination of dimensions as a separate metric ... You must specify the
 *   same dimensions that were used when the metrics were created." A subset or a superset
 *   of the published dimensions finds nothing (an empty Datapoints list, no error).
 * - StartTime is inclusive, EndTime exclusive. StartTime is rounded down: to the minute
 *   when less than 15 days ago, to 5 minutes up to 63 days, to the hour beyond; with a
 *   Period of 5, 10, 20 or 30 seconds, to that division of the minute.
 * - Period: 1, 5, 10, 20, 30 or a multiple of 60. With a StartTime more than 3 hours ago
 *   the period must be a multiple of 60 (300 beyond 15 days, 3600 beyond 63 days) or no
 *   datapoints are returned for that range. Only high-resolution data (PutMetricData with
 *   StorageResolution 1) has sub-minute detail: other data is stored per minute, so a
 *   sub-minute period finds it at the start of its minute.
 * - Exactly one of Statistics (SampleCount, Average, Sum, Minimum, Maximum; 1–5) and
 *   ExtendedStatistics (percentiles p0.0–p100; 1–10). Percentiles are computed over the
 *   raw values of each period ("CloudWatch needs raw data points to calculate percentile
 *   statistics") and are not available when any value is negative; the sandbox uses the
 *   nearest-rank percentile.
 * - Unit: omitted, every unit's data is returned with its unit (one datapoint per period
 *   and unit); given, only data published with that unit ("CloudWatch does not perform
 *   unit conversions"). Data published without a unit has the unit `None`.
 * - At most 1,440 datapoints per call: more is InvalidParameterCombination ("You have
 *   requested up to N datapoints, which exceeds the limit of 1440 ...").
 * - Errors are CloudWatch's awsQuery codes: MissingParameter, InvalidParameterValue,
 *   InvalidParameterCombination, and ValidationError for the model's constraints.
 *
 * Datapoints are returned in chronological order (AWS promises no order; callers sort).
 */
import { SimulatedAwsError } from '../aws-error';
import { STATISTICS } from './validation';

export type BasicStatistic = (typeof STATISTICS)[number];

/** One stored value: when it was published, the value, its unit (`None` when published without one), and `h` for high resolution. */
export interface RawDatapoint {
  readonly t: number;
  readonly v: number;
  readonly u?: string;
  readonly h?: 1;
}

export interface MetricStatisticsDatapoint {
  Timestamp: Date;
  SampleCount?: number;
  Average?: number;
  Sum?: number;
  Minimum?: number;
  Maximum?: number;
  Unit: string;
  ExtendedStatistics?: Record<string, number>;
}

export interface MetricStatisticsResult {
  readonly Label: string;
  readonly Datapoints: MetricStatisticsDatapoint[];
}

/** The most datapoints one GetMetricStatistics call may return. */
export const MAX_DATAPOINTS = 1440;

/** The StandardUnit values CloudWatch accepts. */
export const STANDARD_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

const HIGH_RESOLUTION_PERIODS = [1, 5, 10, 20, 30];
const DAY_MS = 86_400_000;
const PERCENTILE = /^p(\d{1,3}(\.\d+)?)$/;

const missing = (name: string): SimulatedAwsError => new SimulatedAwsError('MissingParameter', `The parameter ${name} is required.`);
const invalid = (message: string): SimulatedAwsError => new SimulatedAwsError('InvalidParameterValue', message);
const constraint = (value: unknown, field: string, rule: string): SimulatedAwsError =>
  new SimulatedAwsError('ValidationError', `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`);

export interface MetricStatisticsQuery {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { Name: string; Value: string }[];
  readonly start: number;
  readonly end: number;
  readonly period: number;
  readonly statistics: readonly BasicStatistic[];
  readonly percentiles: readonly string[];
  readonly unit: string | undefined;
}

function timeOf(value: unknown, name: string): number {
  if (value === undefined || value === null) throw missing(name);
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' || typeof value === 'number' ? new Date(value).getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(`The parameter ${name} must be a valid ISO 8601 time stamp.`);
  return ms;
}

function stringList(value: unknown, field: string, max: number): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length < 1 || value.length > max) {
    throw constraint(Array.isArray(value) ? `[${value.join(', ')}]` : value, field, `Member must have length between 1 and ${max}`);
  }
  return value.map(String);
}

/** Checks a request as CloudWatch does; its query, with StartTime already rounded. */
export function parseMetricStatisticsRequest(input: Record<string, unknown>, now: number): MetricStatisticsQuery {
  for (const name of ['Namespace', 'MetricName'] as const) {
    const value = input[name];
    if (value === undefined || value === null) throw missing(name);
    if (typeof value !== 'string' || value.length < 1 || value.length > 255) {
      throw constraint(value, name === 'Namespace' ? 'namespace' : 'metricName', 'Member must have length between 1 and 255');
    }
  }
  const dimensions = (input.Dimensions ?? []) as { Name?: unknown; Value?: unknown }[];
  if (!Array.isArray(dimensions) || dimensions.length > 30) throw constraint('[...]', 'dimensions', 'Member must have length less than or equal to 30');
  dimensions.forEach((d, i) => {
    if (typeof d.Name !== 'string' || d.Name.length < 1) throw missing(`Dimensions.member.${i + 1}.Name`);
    if (typeof d.Value !== 'string' || d.Value.length < 1) throw missing(`Dimensions.member.${i + 1}.Value`);
  });
  const start = timeOf(input.StartTime, 'StartTime');
  const end = timeOf(input.EndTime, 'EndTime');
  if (input.Period === undefined || input.Period === null) throw missing('Period');
  const period = input.Period;
  if (typeof period !== 'number' || !Number.isInteger(period) || period < 1) {
    throw constraint(period, 'period', 'Member must have value greater than or equal to 1');
  }
  if (!(HIGH_RESOLUTION_PERIODS.includes(period) || period % 60 === 0)) {
    throw invalid('The parameter Period must be a value in the set [ 1, 5, 10, 20, 30 ] or a multiple of 60.');
  }
  if (start >= end) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
  const statistics = stringList(input.Statistics, 'statistics', 5);
  const extended = stringList(input.ExtendedStatistics, 'extendedStatistics', 10);
  if (statistics && extended) {
    throw new SimulatedAwsError(
      'InvalidParameterCombination',
      'The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.',
    );
  }
  if (!statistics && !extended) throw new SimulatedAwsError('MissingParameter', 'Must specify either Statistics or ExtendedStatistics.');
  for (const s of statistics ?? []) {
    if (!STATISTICS.includes(s as BasicStatistic)) {
      throw constraint(
        `[${(statistics ?? []).join(', ')}]`,
        'statistics',
        `Member must satisfy constraint: [Member must satisfy enum value set: [${STATISTICS.join(', ')}]]`,
      );
    }
  }
  for (const p of extended ?? []) {
    const match = PERCENTILE.exec(p);
    if (!match || Number(match[1]) > 100) {
      throw invalid(`The value ${p} for parameter ExtendedStatistics is not supported. Specify a percentile between p0.0 and p100.`);
    }
  }
  const unit = input.Unit === undefined ? undefined : String(input.Unit);
  if (unit !== undefined && !STANDARD_UNITS.includes(unit as (typeof STANDARD_UNITS)[number])) {
    throw constraint(unit, 'unit', `Member must satisfy enum value set: [${STANDARD_UNITS.join(', ')}]`);
  }
  const roundedStart = roundStart(start, period, now);
  const requested = Math.ceil((end - roundedStart) / (period * 1000));
  if (requested > MAX_DATAPOINTS) {
    throw new SimulatedAwsError(
      'InvalidParameterCombination',
      `You have requested up to ${requested} datapoints, which exceeds the limit of ${MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  }
  return {
    namespace: input.Namespace as string,
    metricName: input.MetricName as string,
    dimensions: dimensions.map((d) => ({ Name: d.Name as string, Value: d.Value as string })),
    start: roundedStart,
    end,
    period,
    statistics: (statistics ?? []) as BasicStatistic[],
    percentiles: extended ?? [],
    unit,
  };
}

/** StartTime as CloudWatch rounds it (see the module comment). */
export function roundStart(start: number, period: number, now: number): number {
  const age = now - start;
  const step = period < 60 ? period * 1000 : age > 63 * DAY_MS ? 3_600_000 : age > 15 * DAY_MS ? 300_000 : 60_000;
  return Math.floor(start / step) * step;
}

/** The coarsest resolution CloudWatch still holds for data this old (its retention schedule). */
function resolutionFor(start: number, now: number): number {
  const age = now - start;
  if (age > 63 * DAY_MS) return 3600;
  if (age > 15 * DAY_MS) return 300;
  if (age > 3 * 3_600_000) return 60;
  return 1;
}

/** Answers a parsed query over the metric's raw values. */
export function metricStatistics(query: MetricStatisticsQuery, points: readonly RawDatapoint[], now: number): MetricStatisticsResult {
  const result: MetricStatisticsResult = { Label: query.metricName, Datapoints: [] };
  if (query.period % resolutionFor(query.start, now) !== 0) return result;
  const periodMs = query.period * 1000;
  const buckets = new Map<string, { start: number; unit: string; values: number[] }>();
  for (const p of points) {
    // Standard-resolution data is stored with one-minute granularity.
    const t = p.h === 1 ? p.t : Math.floor(p.t / 60_000) * 60_000;
    if (t < query.start || t >= query.end) continue;
    const unit = p.u ?? 'None';
    if (query.unit !== undefined && unit !== query.unit) continue;
    const bucketStart = query.start + Math.floor((t - query.start) / periodMs) * periodMs;
    const key = `${bucketStart}|${unit}`;
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { start: bucketStart, unit, values: [] }));
    bucket.values.push(p.v);
  }
  for (const bucket of [...buckets.values()].sort((a, b) => a.start - b.start || a.unit.localeCompare(b.unit))) {
    const datapoint: MetricStatisticsDatapoint = { Timestamp: new Date(bucket.start), Unit: bucket.unit };
    for (const statistic of query.statistics) datapoint[statistic] = basicStatistic(statistic, bucket.values);
    if (query.percentiles.length > 0 && bucket.values.every((v) => v >= 0)) {
      datapoint.ExtendedStatistics = Object.fromEntries(query.percentiles.map((p) => [p, percentile(bucket.values, Number(p.slice(1)))]));
    }
    result.Datapoints.push(datapoint);
  }
  return result;
}

export function basicStatistic(statistic: BasicStatistic, values: readonly number[]): number {
  switch (statistic) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

/** The nearest-rank percentile: the smallest value with at least `p` % of the values at or below it. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}
