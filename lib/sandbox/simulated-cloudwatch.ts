/**
 * CloudWatch metrics and metric alarms. Alarms are evaluated on period
 * boundaries (every 10 s for high-resolution periods, every minute otherwise)
 * over an evaluation range wider than EvaluationPeriods, as the user guide
 * documents (see cloudwatch/alarm-evaluation.ts). Inputs are checked as the API
 * Reference constrains them (cloudwatch/validation.ts). Each state change is
 * recorded in the alarm history and sent to EventBridge as
 * `CloudWatch Alarm State Change`.
 */
import { SimulatedAwsError } from './aws-error';
import { type AlarmState, type AlarmEvaluation, evaluateAlarm, evaluationRangeLength } from './cloudwatch/alarm-evaluation';
import {
  type BasicStatistic,
  type MetricStatisticsResult,
  type RawDatapoint,
  basicStatistic,
  metricStatistics,
  parseMetricStatisticsRequest,
} from './cloudwatch/metric-statistics';
import {
  validateDescribeAlarmHistory,
  validateDescribeAlarms,
  validatePutMetricAlarm,
  validatePutMetricData,
  validateSetAlarmState,
} from './cloudwatch/validation';
import type { SeededRandom } from './deterministic';
import type { SimulatedService } from './sdk-transport';

export type { AlarmState };
type Comparison = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
type Statistic = BasicStatistic;

export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface MetricAlarmRecord {
  AlarmName: string;
  AlarmArn: string;
  AlarmDescription?: string;
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  Statistic: Statistic;
  Period: number;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  Threshold: number;
  ComparisonOperator: Comparison;
  TreatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
  StateValue: AlarmState;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: number;
  AlarmConfigurationUpdatedTimestamp: number;
  /** Set when the configured metric-alarm id of the event's configuration.metrics entry was assigned. */
  metricId: string;
}

export interface AlarmHistoryItem {
  readonly AlarmName: string;
  readonly Timestamp: number;
  readonly HistoryItemType: 'StateUpdate' | 'ConfigurationUpdate';
  readonly HistorySummary: string;
  readonly HistoryData: string;
}

export interface CloudWatchSnapshot {
  readonly alarms: MetricAlarmRecord[];
  readonly history: AlarmHistoryItem[];
  readonly datapoints: [string, RawDatapoint[]][];
}

export type AlarmStateListener = (alarm: MetricAlarmRecord, previous: { value: AlarmState; reason: string; reasonData?: string; timestamp: number }) => void;

const EVALUATION_TICK_MS = 10_000;
/** Datapoints older than this are dropped (the sandbox never looks further back). */
const RETENTION_MS = 6 * 3600_000;

export class SimulatedCloudWatch implements SimulatedService {
  private readonly alarms = new Map<string, MetricAlarmRecord>();
  private readonly datapoints = new Map<string, RawDatapoint[]>();
  private readonly history: AlarmHistoryItem[] = [];
  private readonly listeners: AlarmStateListener[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom }) {}

  onStateChange(listener: AlarmStateListener): void {
    this.listeners.push(listener);
  }

  /** Starts periodic alarm evaluation, aligned to 10-second boundaries. */
  start(): void {
    if (this.timer) return;
    const schedule = (): void => {
      const now = Date.now();
      const next = Math.floor(now / EVALUATION_TICK_MS) * EVALUATION_TICK_MS + EVALUATION_TICK_MS;
      this.timer = setTimeout(() => {
        this.evaluateAll(next);
        schedule();
      }, next - now);
    };
    schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  alarm(name: string): MetricAlarmRecord | undefined {
    return this.alarms.get(name);
  }

  alarmHistory(name?: string): AlarmHistoryItem[] {
    return this.history.filter((h) => !name || h.AlarmName === name);
  }

  snapshot(): CloudWatchSnapshot {
    const cutoff = Date.now() - RETENTION_MS;
    return {
      alarms: [...this.alarms.values()].map((a) => ({ ...a, Dimensions: [...a.Dimensions] })),
      history: this.history.slice(-500),
      datapoints: [...this.datapoints].map(([key, points]) => [key, points.filter((p) => p.t >= cutoff)]),
    };
  }

  restore(snapshot: CloudWatchSnapshot): void {
    for (const alarm of snapshot.alarms) this.alarms.set(alarm.AlarmName, { ...alarm });
    this.history.push(...snapshot.history);
    for (const [key, points] of snapshot.datapoints) this.datapoints.set(key, [...points]);
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'PutMetricAlarm':
        this.putMetricAlarm(input);
        return {};
      case 'DescribeAlarms':
        return this.describeAlarms(input);
      case 'PutMetricData':
        this.putMetricData(input);
        return {};
      case 'SetAlarmState':
        this.setAlarmState(input);
        return {};
      case 'DescribeAlarmHistory':
        return this.describeAlarmHistory(input);
      case 'GetMetricStatistics':
        return this.getMetricStatistics(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement CloudWatch ${operation}`);
    }
  }

  putMetricAlarm(input: Record<string, unknown>): void {
    validatePutMetricAlarm(input);
    const name = String(input.AlarmName);
    const period = Number(input.Period);
    const evaluationPeriods = Number(input.EvaluationPeriods);
    const now = Date.now();
    const existing = this.alarms.get(name);
    const record: MetricAlarmRecord = {
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:${this.context.region}:${this.context.account}:alarm:${name}`,
      ...(input.AlarmDescription ? { AlarmDescription: String(input.AlarmDescription) } : {}),
      Namespace: String(input.Namespace),
      MetricName: String(input.MetricName),
      Dimensions: ((input.Dimensions ?? []) as Dimension[]).map((d) => ({ Name: d.Name, Value: d.Value })),
      Statistic: input.Statistic as Statistic,
      Period: period,
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: Number(input.DatapointsToAlarm ?? evaluationPeriods),
      Threshold: Number(input.Threshold),
      ComparisonOperator: input.ComparisonOperator as Comparison,
      TreatMissingData: (input.TreatMissingData ?? 'missing') as MetricAlarmRecord['TreatMissingData'],
      StateValue: existing?.StateValue ?? 'INSUFFICIENT_DATA',
      StateReason: existing?.StateReason ?? 'Unchecked: Initial alarm creation',
      StateUpdatedTimestamp: existing?.StateUpdatedTimestamp ?? now,
      AlarmConfigurationUpdatedTimestamp: now,
      metricId: existing?.metricId ?? this.context.random.uuid(),
    };
    this.alarms.set(name, record);
    this.history.push({
      AlarmName: name,
      Timestamp: now,
      HistoryItemType: 'ConfigurationUpdate',
      HistorySummary: `Alarm "${name}" ${existing ? 'updated' : 'created'}`,
      HistoryData: '{}',
    });
  }

  private describeAlarms(input: Record<string, unknown>): object {
    validateDescribeAlarms(input);
    const names = input.AlarmNames as string[] | undefined;
    const prefix = input.AlarmNamePrefix as string | undefined;
    const state = input.StateValue as AlarmState | undefined;
    const alarms = [...this.alarms.values()]
      .filter((a) => (!names || names.includes(a.AlarmName)) && (!prefix || a.AlarmName.startsWith(prefix)) && (!state || a.StateValue === state))
      .sort((a, b) => a.AlarmName.localeCompare(b.AlarmName))
      .map((a) => ({
        AlarmName: a.AlarmName,
        AlarmArn: a.AlarmArn,
        AlarmDescription: a.AlarmDescription,
        ActionsEnabled: true,
        OKActions: [],
        AlarmActions: [],
        InsufficientDataActions: [],
        StateValue: a.StateValue,
        StateReason: a.StateReason,
        StateReasonData: a.StateReasonData,
        StateUpdatedTimestamp: new Date(a.StateUpdatedTimestamp),
        StateTransitionedTimestamp: new Date(a.StateUpdatedTimestamp),
        AlarmConfigurationUpdatedTimestamp: new Date(a.AlarmConfigurationUpdatedTimestamp),
        MetricName: a.MetricName,
        Namespace: a.Namespace,
        Statistic: a.Statistic,
        Dimensions: a.Dimensions,
        Period: a.Period,
        EvaluationPeriods: a.EvaluationPeriods,
        DatapointsToAlarm: a.DatapointsToAlarm,
        Threshold: a.Threshold,
        ComparisonOperator: a.ComparisonOperator,
        TreatMissingData: a.TreatMissingData,
      }));
    return { MetricAlarms: alarms, CompositeAlarms: [] };
  }

  putMetricData(input: Record<string, unknown>): void {
    validatePutMetricData(input, Date.now());
    const namespace = String(input.Namespace);
    type Datum = { MetricName: string; Dimensions?: Dimension[]; Value?: number; Timestamp?: Date; Unit?: string; StorageResolution?: number };
    for (const datum of (input.MetricData ?? []) as Datum[]) {
      if (datum.Value === undefined) continue;
      const at = datum.Timestamp ? new Date(datum.Timestamp).getTime() : Date.now();
      this.record(namespace, datum.MetricName, datum.Dimensions ?? [], datum.Value, at, datum.Unit, datum.StorageResolution === 1);
    }
  }

  /** GetMetricStatistics over the stored raw values (see cloudwatch/metric-statistics.ts). */
  getMetricStatistics(input: Record<string, unknown>): MetricStatisticsResult {
    const now = Date.now();
    const query = parseMetricStatisticsRequest(input, now);
    return metricStatistics(query, this.datapoints.get(metricKey(query.namespace, query.metricName, query.dimensions)) ?? [], now);
  }

  /**
   * Stores a datapoint (used by PutMetricData and by simulated AWS services' own metrics).
   * `unit`: a StandardUnit; none is stored as CloudWatch's `None`. `highResolution`: stored with
   * one-second rather than one-minute granularity (PutMetricData's StorageResolution 1).
   */
  record(namespace: string, metricName: string, dimensions: readonly Dimension[], value: number, at = Date.now(), unit?: string, highResolution = false): void {
    const key = metricKey(namespace, metricName, dimensions);
    let points = this.datapoints.get(key);
    if (!points) this.datapoints.set(key, (points = []));
    points.push({ t: at, v: value, ...(unit === undefined || unit === 'None' ? {} : { u: unit }), ...(highResolution ? { h: 1 as const } : {}) });
    const cutoff = at - RETENTION_MS;
    while (points.length > 0 && (points[0]?.t ?? at) < cutoff) points.shift();
  }

  private setAlarmState(input: Record<string, unknown>): void {
    validateSetAlarmState(input);
    const alarm = this.alarms.get(String(input.AlarmName));
    if (!alarm) throw new SimulatedAwsError('ResourceNotFound', `Could not find alarm ${String(input.AlarmName)}`, 404);
    // Lasts until the next evaluation, which may change it back.
    this.transition(alarm, input.StateValue as AlarmState, String(input.StateReason), input.StateReasonData as string | undefined);
  }

  private describeAlarmHistory(input: Record<string, unknown>): object {
    validateDescribeAlarmHistory(input);
    const name = input.AlarmName as string | undefined;
    const type = input.HistoryItemType as string | undefined;
    const items = this.history
      .filter((h) => (!name || h.AlarmName === name) && (!type || h.HistoryItemType === type))
      .sort((a, b) => b.Timestamp - a.Timestamp)
      .slice(0, Number(input.MaxRecords ?? 100) || 100)
      .map((h) => ({ ...h, Timestamp: new Date(h.Timestamp) }));
    return { AlarmHistoryItems: items };
  }

  /** Evaluates every alarm whose evaluation falls on `at`. */
  evaluateAll(at: number): void {
    for (const alarm of this.alarms.values()) {
      const every = alarm.Period < 60 ? alarm.Period * 1000 : 60_000;
      if (at % every === 0) this.evaluate(alarm, at);
    }
  }

  private evaluate(alarm: MetricAlarmRecord, at: number): void {
    const periodMs = alarm.Period * 1000;
    const end = Math.floor(at / periodMs) * periodMs;
    const points = this.datapoints.get(metricKey(alarm.Namespace, alarm.MetricName, alarm.Dimensions)) ?? [];
    // The evaluation range, oldest period first.
    const range: { start: number; value: number | undefined }[] = [];
    for (let i = evaluationRangeLength(alarm.EvaluationPeriods) - 1; i >= 0; i -= 1) {
      const start = end - (i + 1) * periodMs;
      const values = points.filter((p) => p.t >= start && p.t < start + periodMs).map((p) => p.v);
      range.push({ start, value: values.length > 0 ? basicStatistic(alarm.Statistic, values) : undefined });
    }
    const evaluation = evaluateAlarm(
      range.map((w) => (w.value === undefined ? undefined : breaches(alarm, w.value))),
      {
        evaluationPeriods: alarm.EvaluationPeriods,
        datapointsToAlarm: alarm.DatapointsToAlarm,
        // "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data."
        treatMissingData: alarm.Namespace === 'AWS/DynamoDB' ? 'ignore' : alarm.TreatMissingData,
      },
    );
    const state = evaluation.state;
    if (state === undefined || state === alarm.StateValue) return;
    const recent = evaluation.evaluated.map((i) => range[i] as { start: number; value: number }).reverse();
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: formatTimestamp(at),
      startDate: formatTimestamp(recent.at(-1)?.start ?? end - alarm.EvaluationPeriods * periodMs),
      statistic: alarm.Statistic,
      period: alarm.Period,
      recentDatapoints: recent.map((w) => w.value),
      threshold: alarm.Threshold,
    });
    this.transition(alarm, state, stateReason(alarm, state, evaluation, recent), reasonData);
  }

  private transition(alarm: MetricAlarmRecord, state: AlarmState, reason: string, reasonData?: string): void {
    const previous = {
      value: alarm.StateValue,
      reason: alarm.StateReason,
      timestamp: alarm.StateUpdatedTimestamp,
      ...(alarm.StateReasonData ? { reasonData: alarm.StateReasonData } : {}),
    };
    if (previous.value === state && previous.reason === reason) return;
    alarm.StateValue = state;
    alarm.StateReason = reason;
    if (reasonData === undefined) delete alarm.StateReasonData;
    else alarm.StateReasonData = reasonData;
    alarm.StateUpdatedTimestamp = Date.now();
    this.history.push({
      AlarmName: alarm.AlarmName,
      Timestamp: alarm.StateUpdatedTimestamp,
      HistoryItemType: 'StateUpdate',
      HistorySummary: `Alarm updated from ${previous.value} to ${state}`,
      HistoryData: JSON.stringify({ oldState: { stateValue: previous.value }, newState: { stateValue: state, stateReason: reason } }),
    });
    if (previous.value === state) return;
    for (const listener of this.listeners) listener(alarm, previous);
  }

  /** The documented `CloudWatch Alarm State Change` event for a transition. */
  static stateChangeEvent(
    alarm: MetricAlarmRecord,
    previous: { value: AlarmState; reason: string; reasonData?: string; timestamp: number },
  ): { source: string; detailType: string; resources: string[]; detail: Record<string, unknown> } {
    const stateOf = (value: AlarmState, reason: string, timestamp: number, reasonData?: string): Record<string, unknown> => ({
      value,
      reason,
      ...(reasonData ? { reasonData } : {}),
      timestamp: formatTimestamp(timestamp),
    });
    return {
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      resources: [alarm.AlarmArn],
      detail: {
        alarmName: alarm.AlarmName,
        state: stateOf(alarm.StateValue, alarm.StateReason, alarm.StateUpdatedTimestamp, alarm.StateReasonData),
        previousState: stateOf(previous.value, previous.reason, previous.timestamp, previous.reasonData),
        configuration: {
          ...(alarm.AlarmDescription ? { description: alarm.AlarmDescription } : {}),
          metrics: [
            {
              id: alarm.metricId,
              metricStat: {
                metric: {
                  namespace: alarm.Namespace,
                  name: alarm.MetricName,
                  dimensions: Object.fromEntries(alarm.Dimensions.map((d) => [d.Name, d.Value])),
                },
                period: alarm.Period,
                stat: alarm.Statistic,
              },
              returnData: true,
            },
          ],
        },
      },
    };
  }
}

/** The state reason CloudWatch writes for an evaluation: the datapoints evaluated, newest first, and any filled in. */
function stateReason(alarm: MetricAlarmRecord, state: AlarmState, evaluation: AlarmEvaluation, recent: readonly { start: number; value: number }[]): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (state === 'INSUFFICIENT_DATA') {
    const unknown = alarm.EvaluationPeriods - recent.length;
    return `Insufficient Data: ${plural(unknown, 'datapoint')} ${unknown === 1 ? 'was' : 'were'} unknown.`;
  }
  const transition = `(minimum ${plural(alarm.DatapointsToAlarm, 'datapoint')} for ${alarm.StateValue} -> ${state} transition)`;
  const treatedAs = `${evaluation.filled === 1 ? 'datapoint was' : 'datapoints were'} treated as [${alarm.TreatMissingData === 'breaching' ? 'Breaching' : 'NonBreaching'}]`;
  if (recent.length === 0) {
    return `Threshold Crossed: no datapoints were received for ${plural(evaluation.filled, 'period')} and ${evaluation.filled} missing ${treatedAs}.`;
  }
  const breachingReal = recent.filter((w) => breaches(alarm, w.value)).length;
  const counted = state === 'ALARM' ? breachingReal : recent.length - breachingReal;
  const filled = evaluation.filled > 0 ? ` and ${evaluation.filled} missing ${treatedAs}` : '';
  return `Threshold Crossed: ${counted} out of the last ${recent.length} datapoints [${recent
    .map((w) => `${formatValue(w.value)} (${formatReasonDate(w.start)})`)
    .join(', ')}] ${comparisonText(alarm.ComparisonOperator, state === 'ALARM')} the threshold (${formatValue(alarm.Threshold)})${filled} ${transition}.`;
}

export function metricKey(namespace: string, name: string, dimensions: readonly Dimension[]): string {
  const dims = [...dimensions].sort((a, b) => a.Name.localeCompare(b.Name)).map((d) => `${d.Name}=${d.Value}`);
  return `${namespace}|${name}|${dims.join(',')}`;
}

function breaches(alarm: MetricAlarmRecord, value: number): boolean {
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanThreshold':
      return value > alarm.Threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.Threshold;
    case 'LessThanThreshold':
      return value < alarm.Threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= alarm.Threshold;
  }
}

function comparisonText(comparison: Comparison, crossed: boolean): string {
  const text = {
    GreaterThanThreshold: 'greater than',
    GreaterThanOrEqualToThreshold: 'greater than or equal to',
    LessThanThreshold: 'less than',
    LessThanOrEqualToThreshold: 'less than or equal to',
  }[comparison];
  return crossed ? `was ${text}` : `was not ${text}`;
}

const formatValue = (value: number): string => (Number.isInteger(value) ? value.toFixed(1) : String(Number(value.toFixed(6))));

/** `2019-10-02T17:04:40.989+0000`, as alarm events and reason data write timestamps. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** `dd/MM/yy HH:mm:ss`, as alarm reasons write datapoint times. */
function formatReasonDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}
