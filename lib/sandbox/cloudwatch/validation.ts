/**
 * CloudWatch's input checks for the operations the sandbox implements, with the
 * codes CloudWatch answers (its awsQuery codes; the SDK turns each into its own
 * class: `InvalidParameterValue` → InvalidParameterValueException,
 * `MissingParameter` → MissingRequiredParameterException,
 * `InvalidParameterCombination` → InvalidParameterCombinationException,
 * `InvalidFormat` → InvalidFormatFault, `InvalidNextToken`, `ValidationError` →
 * ValidationException, `ResourceNotFound`). Constraints are those of the
 * CloudWatch API Reference (PutMetricAlarm, SetAlarmState, DescribeAlarms,
 * DescribeAlarmHistory, PutMetricData); constraint failures use AWS's generic
 * "1 validation error detected" wording.
 */
import { SimulatedAwsError } from '../aws-error';

export const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
export const COMPARISONS = ['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const;
export const TREAT_MISSING_DATA = ['breaching', 'notBreaching', 'ignore', 'missing'] as const;
const STATE_VALUES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
const HISTORY_ITEM_TYPES = ['ConfigurationUpdate', 'StateUpdate', 'Action', 'AlarmContributorStateUpdate', 'AlarmContributorAction'] as const;

/** PutMetricData accepts datapoints up to two weeks old and two hours ahead (API Reference, PutMetricData). */
const OLDEST_DATAPOINT_MS = 14 * 86_400_000;
const NEWEST_DATAPOINT_MS = 2 * 3600_000;

const constraint = (value: unknown, field: string, rule: string): SimulatedAwsError =>
  new SimulatedAwsError(
    'ValidationError',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${String(value)}'`} at '${field}' failed to satisfy constraint: ${rule}`,
  );

const requireString = (input: Record<string, unknown>, key: string, field: string, max: number): string => {
  const value = input[key];
  if (value === undefined || value === null) throw constraint(undefined, field, 'Member must not be null');
  if (typeof value !== 'string' || value.length < 1 || value.length > max) throw constraint(value, field, `Member must have length between 1 and ${max}`);
  return value;
};

const oneOf = <T extends string>(value: unknown, allowed: readonly T[], field: string): T | undefined => {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw constraint(value, field, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return value as T;
};

const integerAtLeast = (value: unknown, min: number, field: string): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw constraint(value, field, `Member must have value greater than or equal to ${min}`);
  return value;
};

const invalidValue = (message: string): SimulatedAwsError => new SimulatedAwsError('InvalidParameterValue', message);

function checkDimensions(dimensions: unknown, field: string): void {
  if (dimensions === undefined) return;
  if (!Array.isArray(dimensions) || dimensions.length > 30)
    throw constraint(`[${String(dimensions)}]`, field, 'Member must have length less than or equal to 30');
  dimensions.forEach((d: Record<string, unknown>, i) => {
    requireString(d, 'Name', `${field}.${i + 1}.member.name`, 255);
    requireString(d, 'Value', `${field}.${i + 1}.member.value`, 1024);
  });
}

/** PutMetricAlarm on a single metric (the sandbox has no metric math or anomaly detection). */
export function validatePutMetricAlarm(input: Record<string, unknown>): void {
  requireString(input, 'AlarmName', 'alarmName', 255);
  if (input.AlarmDescription !== undefined && (typeof input.AlarmDescription !== 'string' || input.AlarmDescription.length > 1024)) {
    throw constraint(input.AlarmDescription, 'alarmDescription', 'Member must have length less than or equal to 1024');
  }
  const evaluationPeriods = integerAtLeast(input.EvaluationPeriods, 1, 'evaluationPeriods');
  if (evaluationPeriods === undefined) throw constraint(undefined, 'evaluationPeriods', 'Member must not be null');
  oneOf(input.ComparisonOperator, COMPARISONS, 'comparisonOperator');
  if (input.ComparisonOperator === undefined) throw constraint(undefined, 'comparisonOperator', 'Member must not be null');
  if (input.Metrics !== undefined) throw new SimulatedAwsError('ValidationError', 'The sandbox supports alarms on a single metric only (no Metrics).');
  if (input.MetricName === undefined || input.Namespace === undefined) {
    throw new SimulatedAwsError('ValidationError', 'Either MetricName and Namespace, or Metrics, must be specified.');
  }
  requireString(input, 'MetricName', 'metricName', 255);
  requireString(input, 'Namespace', 'namespace', 255);
  checkDimensions(input.Dimensions, 'dimensions');
  if (input.Statistic !== undefined && input.ExtendedStatistic !== undefined) {
    throw new SimulatedAwsError('InvalidParameterCombination', 'Exactly one of Statistic or ExtendedStatistic must be specified.');
  }
  if (input.Statistic === undefined)
    throw new SimulatedAwsError('InvalidParameterCombination', 'Exactly one of Statistic or ExtendedStatistic must be specified.');
  oneOf(input.Statistic, STATISTICS, 'statistic');
  const period = integerAtLeast(input.Period, 1, 'period');
  if (period === undefined) throw new SimulatedAwsError('ValidationError', 'Period must be specified when MetricName is specified.');
  if (!(period === 10 || period === 20 || period === 30 || period % 60 === 0))
    throw new SimulatedAwsError('ValidationError', 'Period must be 10, 20, 30 or a multiple of 60.');
  // "An alarm's total current evaluation period can be no longer than one day" (seven days for periods of an hour or more).
  const limit = period >= 3600 ? 7 * 86_400 : 86_400;
  if (evaluationPeriods * period > limit) {
    throw new SimulatedAwsError('ValidationError', `Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= ${limit}).`);
  }
  const datapointsToAlarm = integerAtLeast(input.DatapointsToAlarm, 1, 'datapointsToAlarm');
  if (datapointsToAlarm !== undefined && datapointsToAlarm > evaluationPeriods) {
    throw new SimulatedAwsError('ValidationError', 'DatapointsToAlarm must be less than or equal to EvaluationPeriods.');
  }
  if (typeof input.Threshold !== 'number' || !Number.isFinite(input.Threshold)) {
    throw new SimulatedAwsError('ValidationError', 'Threshold must be specified when the alarm is not on an anomaly detection band.');
  }
  if (input.TreatMissingData !== undefined && !TREAT_MISSING_DATA.includes(input.TreatMissingData as (typeof TREAT_MISSING_DATA)[number])) {
    throw invalidValue(
      `The value ${String(input.TreatMissingData)} for parameter TreatMissingData is not valid. Valid values are breaching, notBreaching, ignore and missing.`,
    );
  }
}

/** SetAlarmState's own checks; the caller answers ResourceNotFound for an unknown alarm. */
export function validateSetAlarmState(input: Record<string, unknown>): void {
  requireString(input, 'AlarmName', 'alarmName', 255);
  if (input.StateValue === undefined) throw constraint(undefined, 'stateValue', 'Member must not be null');
  oneOf(input.StateValue, STATE_VALUES, 'stateValue');
  if (input.StateReason === undefined) throw constraint(undefined, 'stateReason', 'Member must not be null');
  if (typeof input.StateReason !== 'string' || input.StateReason.length > 1023)
    throw constraint(input.StateReason, 'stateReason', 'Member must have length less than or equal to 1023');
  if (input.StateReasonData !== undefined) {
    if (typeof input.StateReasonData !== 'string' || input.StateReasonData.length > 4000) {
      throw constraint(input.StateReasonData, 'stateReasonData', 'Member must have length less than or equal to 4000');
    }
    try {
      JSON.parse(input.StateReasonData);
    } catch {
      throw new SimulatedAwsError('InvalidFormat', 'Data was not syntactically valid JSON');
    }
  }
}

/** DescribeAlarms: the sandbox answers in one page, so no NextToken of its own exists. */
export function validateDescribeAlarms(input: Record<string, unknown>): void {
  const names = input.AlarmNames;
  if (names !== undefined && (!Array.isArray(names) || names.length > 100))
    throw constraint('[...]', 'alarmNames', 'Member must have length less than or equal to 100');
  if (names !== undefined && input.AlarmNamePrefix !== undefined) {
    throw new SimulatedAwsError('InvalidParameterCombination', 'AlarmNamePrefix and AlarmNames cannot be specified together.');
  }
  oneOf(input.StateValue, STATE_VALUES, 'stateValue');
  checkMaxRecords(input.MaxRecords);
  if (input.NextToken !== undefined) throw new SimulatedAwsError('InvalidNextToken', 'The next token specified is invalid.');
}

export function validateDescribeAlarmHistory(input: Record<string, unknown>): void {
  oneOf(input.HistoryItemType, HISTORY_ITEM_TYPES, 'historyItemType');
  checkMaxRecords(input.MaxRecords);
  if (input.NextToken !== undefined) throw new SimulatedAwsError('InvalidNextToken', 'The next token specified is invalid.');
}

function checkMaxRecords(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100)
    throw constraint(value, 'maxRecords', 'Member must have value between 1 and 100');
}

/** PutMetricData: namespace, each datum's name, value(s), dimensions and timestamp. */
export function validatePutMetricData(input: Record<string, unknown>, now: number): void {
  if (input.Namespace === undefined) throw new SimulatedAwsError('MissingParameter', 'The parameter Namespace is required.');
  const namespace = requireString(input, 'Namespace', 'namespace', 255);
  if (namespace.startsWith('AWS/')) throw invalidValue(`The value ${namespace} for parameter Namespace is invalid.`);
  const data = input.MetricData;
  if (data === undefined) throw new SimulatedAwsError('MissingParameter', 'The parameter MetricData is required.');
  if (!Array.isArray(data) || data.length > 1000) throw constraint('[...]', 'metricData', 'Member must have length less than or equal to 1000');
  data.forEach((datum: Record<string, unknown>, i) => {
    const member = `MetricData.member.${i + 1}`;
    if (datum.MetricName === undefined) throw new SimulatedAwsError('MissingParameter', `The parameter ${member}.MetricName is required.`);
    requireString(datum, 'MetricName', `metricData.${i + 1}.member.metricName`, 255);
    checkDimensions(datum.Dimensions, `metricData.${i + 1}.member.dimensions`);
    const given = ['Value', 'Values', 'StatisticValues'].filter((k) => datum[k] !== undefined);
    if (given.length > 1)
      throw new SimulatedAwsError(
        'InvalidParameterCombination',
        `The parameters ${member}.${given.join(` and ${member}.`)} are mutually exclusive and you have specified both.`,
      );
    if (datum.Value !== undefined && (typeof datum.Value !== 'number' || !Number.isFinite(datum.Value))) {
      throw invalidValue(`The value ${String(datum.Value)} for parameter ${member}.Value is invalid.`);
    }
    if (Array.isArray(datum.Values) && Array.isArray(datum.Counts) && datum.Values.length !== datum.Counts.length) {
      throw invalidValue(`The parameters ${member}.Values and ${member}.Counts must be of the same size.`);
    }
    if (datum.Timestamp !== undefined) {
      const at = new Date(datum.Timestamp as string | number | Date).getTime();
      if (Number.isNaN(at) || at < now - OLDEST_DATAPOINT_MS || at > now + NEWEST_DATAPOINT_MS) {
        throw invalidValue(
          `The parameter ${member}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`,
        );
      }
    }
  });
}
