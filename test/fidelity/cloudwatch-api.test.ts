/**
 * The simulated CloudWatch API refuses what CloudWatch refuses, with the error
 * the SDK models for it. Each test names the API Reference page it follows
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_<Operation>.html)
 * or the user guide page.
 */
import {
  CloudWatchServiceException,
  InvalidFormatFault,
  InvalidNextToken,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  MissingRequiredParameterException,
  PutMetricAlarmCommand,
  ResourceNotFound,
  SetAlarmStateCommand,
  ValidationException,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { SimulatedCloudWatch } from '../../lib/sandbox/simulated-cloudwatch';
import { toSdkError } from '../../lib/sandbox/sdk-transport';
import { openSandbox } from '../support/sandbox';

const cloudwatch = (): SimulatedCloudWatch => new SimulatedCloudWatch({ account: '111122223333', region: 'eu-west-2', random: new SeededRandom(7) });

/** Calls the simulated service and returns what the SDK would throw (the SDK's class), or undefined. */
async function refusal(cw: SimulatedCloudWatch, operation: string, input: Record<string, unknown>): Promise<Error | undefined> {
  try {
    await cw.handle(operation, input);
    return undefined;
  } catch (error) {
    if (!(error instanceof SimulatedAwsError)) throw error;
    return toSdkError('CloudWatchClient', error, 'test');
  }
}

const alarm = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  AlarmName: 'a',
  Namespace: 'Test',
  MetricName: 'Value',
  Statistic: 'Average',
  Period: 60,
  EvaluationPeriods: 3,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanThreshold',
  ...overrides,
});

describe('CloudWatch PutMetricAlarm (API Reference: PutMetricAlarm)', () => {
  it('accepts a valid single-metric alarm', async () => {
    expect(await refusal(cloudwatch(), 'PutMetricAlarm', alarm())).toBeUndefined();
  });

  it.each([
    ['no AlarmName', { AlarmName: undefined }, ValidationException],
    ['an AlarmName over 255 characters', { AlarmName: 'x'.repeat(256) }, ValidationException],
    ['no EvaluationPeriods', { EvaluationPeriods: undefined }, ValidationException],
    ['EvaluationPeriods 0', { EvaluationPeriods: 0 }, ValidationException],
    ['no ComparisonOperator', { ComparisonOperator: undefined }, ValidationException],
    ['an unknown ComparisonOperator', { ComparisonOperator: 'Above' }, ValidationException],
    ['a Period of 45 s (periods are 10, 20, 30 or a multiple of 60)', { Period: 45 }, ValidationException],
    ['EvaluationPeriods × Period over a day', { Period: 3540, EvaluationPeriods: 25 }, ValidationException],
    ['DatapointsToAlarm above EvaluationPeriods', { DatapointsToAlarm: 4 }, ValidationException],
    ['no Threshold', { Threshold: undefined }, ValidationException],
    ['an unknown Statistic', { Statistic: 'Median' }, ValidationException],
    ['both Statistic and ExtendedStatistic', { ExtendedStatistic: 'p99' }, InvalidParameterCombinationException],
    ['an unknown TreatMissingData', { TreatMissingData: 'zero' }, InvalidParameterValueException],
  ])('refuses %s', async (_what, overrides, expected) => {
    const error = await refusal(cloudwatch(), 'PutMetricAlarm', alarm(overrides));
    expect(error).toBeInstanceOf(expected);
    expect(error).toBeInstanceOf(CloudWatchServiceException);
  });
});

describe('CloudWatch SetAlarmState (API Reference: SetAlarmState)', () => {
  it('answers ResourceNotFound (HTTP 404) for an alarm that does not exist', async () => {
    const error = await refusal(cloudwatch(), 'SetAlarmState', { AlarmName: 'nope', StateValue: 'ALARM', StateReason: 'test' });
    expect(error).toBeInstanceOf(ResourceNotFound);
    expect((error as ResourceNotFound).$metadata.httpStatusCode).toBe(404);
  });

  it('refuses StateReasonData that is not JSON with InvalidFormatFault, and an unknown StateValue', async () => {
    const cw = cloudwatch();
    cw.putMetricAlarm(alarm());
    expect(await refusal(cw, 'SetAlarmState', { AlarmName: 'a', StateValue: 'ALARM', StateReason: 'r', StateReasonData: '{not json' })).toBeInstanceOf(
      InvalidFormatFault,
    );
    expect(await refusal(cw, 'SetAlarmState', { AlarmName: 'a', StateValue: 'RED', StateReason: 'r' })).toBeInstanceOf(ValidationException);
    expect(await refusal(cw, 'SetAlarmState', { AlarmName: 'a', StateValue: 'ALARM' })).toBeInstanceOf(ValidationException);
    expect(await refusal(cw, 'SetAlarmState', { AlarmName: 'a', StateValue: 'ALARM', StateReason: 'r', StateReasonData: '{}' })).toBeUndefined();
    expect(cw.alarm('a')?.StateValue).toBe('ALARM');
  });
});

describe('CloudWatch DescribeAlarms and DescribeAlarmHistory (API Reference)', () => {
  it('refuses AlarmNames with AlarmNamePrefix, MaxRecords outside 1–100 and a NextToken it never gave', async () => {
    const cw = cloudwatch();
    expect(await refusal(cw, 'DescribeAlarms', { AlarmNames: ['a'], AlarmNamePrefix: 'a' })).toBeInstanceOf(InvalidParameterCombinationException);
    expect(await refusal(cw, 'DescribeAlarms', { MaxRecords: 101 })).toBeInstanceOf(ValidationException);
    expect(await refusal(cw, 'DescribeAlarms', { NextToken: 'made-up' })).toBeInstanceOf(InvalidNextToken);
    expect(await refusal(cw, 'DescribeAlarms', { StateValue: 'RED' })).toBeInstanceOf(ValidationException);
    expect(await refusal(cw, 'DescribeAlarmHistory', { HistoryItemType: 'Everything' })).toBeInstanceOf(ValidationException);
  });
});

describe('CloudWatch PutMetricData (API Reference: PutMetricData)', () => {
  it.each([
    ['no Namespace', { MetricData: [{ MetricName: 'm', Value: 1 }] }, MissingRequiredParameterException],
    ['a namespace beginning AWS/', { Namespace: 'AWS/ECS', MetricData: [{ MetricName: 'm', Value: 1 }] }, InvalidParameterValueException],
    ['no MetricData', { Namespace: 'Test' }, MissingRequiredParameterException],
    ['a datum without MetricName', { Namespace: 'Test', MetricData: [{ Value: 1 }] }, MissingRequiredParameterException],
    ['Value together with Values', { Namespace: 'Test', MetricData: [{ MetricName: 'm', Value: 1, Values: [1] }] }, InvalidParameterCombinationException],
    ['a non-finite Value', { Namespace: 'Test', MetricData: [{ MetricName: 'm', Value: Number.NaN }] }, InvalidParameterValueException],
    [
      'Values and Counts of different sizes',
      { Namespace: 'Test', MetricData: [{ MetricName: 'm', Values: [1, 2], Counts: [1] }] },
      InvalidParameterValueException,
    ],
    [
      'a timestamp more than two weeks old',
      { Namespace: 'Test', MetricData: [{ MetricName: 'm', Value: 1, Timestamp: new Date(Date.now() - 15 * 86_400_000) }] },
      InvalidParameterValueException,
    ],
    [
      'a timestamp more than two hours ahead',
      { Namespace: 'Test', MetricData: [{ MetricName: 'm', Value: 1, Timestamp: new Date(Date.now() + 3 * 3600_000) }] },
      InvalidParameterValueException,
    ],
  ])('refuses %s', async (_what, input, expected) => {
    expect(await refusal(cloudwatch(), 'PutMetricData', input)).toBeInstanceOf(expected);
  });
});

describe('through the SDK client', () => {
  it("surfaces CloudWatch's errors as the SDK's modeled classes", async () => {
    const sandbox = await openSandbox();
    const cw = sandbox.clients.cloudwatch;
    await expect(cw.send(new SetAlarmStateCommand({ AlarmName: 'no-such-alarm', StateValue: 'ALARM', StateReason: 'test' }))).rejects.toBeInstanceOf(
      ResourceNotFound,
    );
    await expect(cw.send(new PutMetricAlarmCommand({ ...alarm({ Period: 45 }) } as never))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
