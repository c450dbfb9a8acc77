/**
 * The simulated CloudWatch answers GetMetricStatistics as the API Reference documents it
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html):
 * the full dimension set names the metric, StartTime inclusive and rounded down, EndTime
 * exclusive, Period 1/5/10/20/30 or a multiple of 60, Statistics xor ExtendedStatistics,
 * percentiles over the raw values, Unit filtering without conversion, at most 1,440
 * datapoints per call, and the documented error codes.
 */
import {
  GetMetricStatisticsCommand,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  MissingRequiredParameterException,
  ValidationException,
} from '@aws-sdk/client-cloudwatch';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { IamAuthorizer } from '../../lib/sandbox/iam/authorizer';
import type { PolicyDocumentJson } from '../../lib/sandbox/iam/policy-evaluator';
import type { ResourceLookups } from '../../lib/sandbox/iam/request-resources';
import { percentile } from '../../lib/sandbox/cloudwatch/metric-statistics';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { SimulatedCloudWatch } from '../../lib/sandbox/simulated-cloudwatch';
import { toSdkError } from '../../lib/sandbox/sdk-transport';
import { openSandbox } from '../support/sandbox';

const NOW = Date.parse('2026-01-05T06:00:00Z');
const MINUTE = 60_000;
// A target group no fleet service uses: the sandbox publishes its own services' load balancer metrics.
const TG = [
  { Name: 'TargetGroup', Value: 'targetgroup/archive-blue/0a1b2c3d4e5f6099' },
  { Name: 'LoadBalancer', Value: 'app/trading-prod/0a1b2c3d4e5f6071' },
];

const cloudwatch = (): SimulatedCloudWatch => new SimulatedCloudWatch({ account: '111122223333', region: 'eu-west-2', random: new SeededRandom(7) });

async function refusal(cw: SimulatedCloudWatch, input: Record<string, unknown>): Promise<Error | undefined> {
  try {
    await cw.handle('GetMetricStatistics', input);
    return undefined;
  } catch (error) {
    if (!(error instanceof SimulatedAwsError)) throw error;
    return toSdkError('CloudWatchClient', error, 'test');
  }
}

const request = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  Namespace: 'AWS/ApplicationELB',
  MetricName: 'TargetResponseTime',
  Dimensions: TG,
  StartTime: new Date(NOW - 10 * MINUTE),
  EndTime: new Date(NOW),
  Period: 60,
  Statistics: ['Sum'],
  ...overrides,
});

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GetMetricStatistics: which data (API Reference: Dimensions, StartTime, EndTime, Period)', () => {
  it('aggregates the values of each period of the exact dimension set; a subset or a superset of the dimensions finds nothing', async () => {
    const cw = cloudwatch();
    // Minute -3: 1, 2, 3; minute -2: 10.
    for (const [offset, value] of [
      [-3 * MINUTE, 1],
      [-3 * MINUTE + 20_000, 2],
      [-3 * MINUTE + 59_999, 3],
      [-2 * MINUTE, 10],
    ] as const) {
      cw.record('AWS/ApplicationELB', 'RequestCount', TG, value, NOW + offset, 'Count');
    }
    const result = cw.getMetricStatistics(
      request({ MetricName: 'RequestCount', Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'], Dimensions: [...TG].reverse() }),
    );
    expect(result.Label).toBe('RequestCount');
    expect(result.Datapoints).toEqual([
      { Timestamp: new Date(NOW - 3 * MINUTE), Sum: 6, SampleCount: 3, Average: 2, Minimum: 1, Maximum: 3, Unit: 'Count' },
      { Timestamp: new Date(NOW - 2 * MINUTE), Sum: 10, SampleCount: 1, Average: 10, Minimum: 10, Maximum: 10, Unit: 'Count' },
    ]);
    expect(cw.getMetricStatistics(request({ MetricName: 'RequestCount', Dimensions: [TG[1]] })).Datapoints).toEqual([]);
    expect(
      cw.getMetricStatistics(request({ MetricName: 'RequestCount', Dimensions: [...TG, { Name: 'AvailabilityZone', Value: 'eu-west-2a' }] })).Datapoints,
    ).toEqual([]);
    expect(cw.getMetricStatistics(request({ MetricName: 'RequestCount', Namespace: 'Trading' })).Datapoints).toEqual([]);
  });

  it('includes StartTime and excludes EndTime, and rounds a StartTime under 15 days old down to the minute', async () => {
    const cw = cloudwatch();
    cw.record('Test', 'm', [], 1, NOW - 5 * MINUTE);
    cw.record('Test', 'm', [], 2, NOW - MINUTE);
    const base = { Namespace: 'Test', MetricName: 'm', Dimensions: [] };
    // 12:32:34 is rounded down to 12:32:00: a StartTime 30 s into the minute still includes the value at its start.
    const rounded = cw.getMetricStatistics(request({ ...base, StartTime: new Date(NOW - 5 * MINUTE + 30_000), EndTime: new Date(NOW - MINUTE) }));
    expect(rounded.Datapoints.map((d) => [d.Timestamp.getTime(), d.Sum])).toEqual([[NOW - 5 * MINUTE, 1]]);
    const exclusiveEnd = cw.getMetricStatistics(request({ ...base, StartTime: new Date(NOW - 10 * MINUTE), EndTime: new Date(NOW - MINUTE) }));
    expect(exclusiveEnd.Datapoints).toHaveLength(1);
  });

  it('aggregates over the requested period and answers sub-minute periods from high-resolution data', async () => {
    const cw = cloudwatch();
    for (let s = 0; s < 120; s += 10) {
      cw.record('Test', 'high', [], s, NOW - 2 * MINUTE + s * 1000, undefined, true);
      cw.record('Test', 'standard', [], s, NOW - 2 * MINUTE + s * 1000);
    }
    const query = (metric: string, overrides: Record<string, unknown>): Record<string, unknown> =>
      request({ Namespace: 'Test', MetricName: metric, Dimensions: [], ...overrides });
    expect(cw.getMetricStatistics(query('high', { Period: 300, Statistics: ['SampleCount'] })).Datapoints.map((d) => d.SampleCount)).toEqual([12]);
    const tenSeconds = cw.getMetricStatistics(query('high', { Period: 10, StartTime: new Date(NOW - 2 * MINUTE + 5_000), Statistics: ['Sum'] }));
    // With a Period of 10, StartTime is rounded down to a 10-second division of the minute.
    expect(tenSeconds.Datapoints[0]?.Timestamp.getTime()).toBe(NOW - 2 * MINUTE);
    expect(tenSeconds.Datapoints).toHaveLength(12);
    // Standard-resolution data is stored per minute: a 10-second period finds each minute's values at its start.
    const standard = cw.getMetricStatistics(query('standard', { Period: 10, Statistics: ['SampleCount'] }));
    expect(standard.Datapoints.map((d) => [d.Timestamp.getTime() - NOW, d.SampleCount])).toEqual([
      [-2 * MINUTE, 6],
      [-MINUTE, 6],
    ]);
  });

  it('stores PutMetricData values with StorageResolution 1 at high resolution', async () => {
    const cw = cloudwatch();
    cw.putMetricData({
      Namespace: 'Test',
      MetricData: [
        { MetricName: 'm', Value: 1, StorageResolution: 1, Timestamp: new Date(NOW - 50_000) },
        { MetricName: 'm', Value: 2, StorageResolution: 60, Timestamp: new Date(NOW - 50_000) },
      ],
    });
    const answer = cw.getMetricStatistics(request({ Namespace: 'Test', MetricName: 'm', Dimensions: [], Period: 10, StartTime: new Date(NOW - MINUTE) }));
    expect(answer.Datapoints.map((d) => [d.Timestamp.getTime() - NOW, d.Sum])).toEqual([
      [-MINUTE, 2],
      [-50_000, 1],
    ]);
  });

  it('returns no datapoints for a period shorter than a minute when StartTime is more than 3 hours ago', async () => {
    const cw = cloudwatch();
    cw.record('Test', 'm', [], 1, NOW - 4 * 3600_000);
    const input = { Namespace: 'Test', MetricName: 'm', Dimensions: [], StartTime: new Date(NOW - 4 * 3600_000), EndTime: new Date(NOW - 3.9 * 3600_000) };
    expect(cw.getMetricStatistics(request({ ...input, Period: 30 })).Datapoints).toEqual([]);
    expect(cw.getMetricStatistics(request({ ...input, Period: 60 })).Datapoints).toHaveLength(1);
  });
});

describe('GetMetricStatistics: ExtendedStatistics and Unit (API Reference)', () => {
  it('computes percentiles over the raw values of each period', async () => {
    const cw = cloudwatch();
    // 100 response times: 0.01 .. 1.00 s.
    for (let i = 1; i <= 100; i += 1) cw.record('AWS/ApplicationELB', 'TargetResponseTime', TG, i / 100, NOW - MINUTE + i * 100, 'Seconds');
    const result = cw.getMetricStatistics(request({ Statistics: undefined, ExtendedStatistics: ['p99', 'p50', 'p100', 'p0.0'] }));
    expect(result.Datapoints).toEqual([
      { Timestamp: new Date(NOW - MINUTE), Unit: 'Seconds', ExtendedStatistics: { p99: 0.99, p50: 0.5, p100: 1, 'p0.0': 0.01 } },
    ]);
  });

  it('leaves percentiles out of a period with a negative value ("not available when any of the metric values are negative")', async () => {
    const cw = cloudwatch();
    cw.record('Test', 'm', [], -1, NOW - MINUTE);
    cw.record('Test', 'm', [], 3, NOW - MINUTE + 1);
    const [datapoint] = cw.getMetricStatistics(
      request({ Namespace: 'Test', MetricName: 'm', Dimensions: [], Statistics: undefined, ExtendedStatistics: ['p90'] }),
    ).Datapoints;
    expect(datapoint?.ExtendedStatistics).toBeUndefined();
  });

  it('returns each unit separately when Unit is omitted, only that unit when given, and converts nothing', async () => {
    const cw = cloudwatch();
    cw.record('Test', 'latency', [], 0.5, NOW - MINUTE, 'Seconds');
    cw.record('Test', 'latency', [], 700, NOW - MINUTE, 'Milliseconds');
    cw.record('Test', 'latency', [], 9, NOW - MINUTE);
    const base = { Namespace: 'Test', MetricName: 'latency', Dimensions: [] };
    expect(
      cw
        .getMetricStatistics(request(base))
        .Datapoints.map((d) => [d.Unit, d.Sum])
        .sort(),
    ).toEqual([
      ['Milliseconds', 700],
      ['None', 9],
      ['Seconds', 0.5],
    ]);
    expect(cw.getMetricStatistics(request({ ...base, Unit: 'Seconds' })).Datapoints.map((d) => d.Sum)).toEqual([0.5]);
    expect(cw.getMetricStatistics(request({ ...base, Unit: 'Microseconds' })).Datapoints).toEqual([]);
  });

  it('takes the unit PutMetricData gives', async () => {
    const cw = cloudwatch();
    cw.putMetricData({ Namespace: 'Trading', MetricData: [{ MetricName: 'OrderRejectRate', Value: 4, Unit: 'Percent', Timestamp: new Date(NOW - 30_000) }] });
    const result = cw.getMetricStatistics(request({ Namespace: 'Trading', MetricName: 'OrderRejectRate', Dimensions: [], Statistics: ['Average'] }));
    expect(result.Datapoints).toEqual([{ Timestamp: new Date(NOW - MINUTE), Average: 4, Unit: 'Percent' }]);
  });

  it('uses the nearest-rank percentile', () => {
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([4, 1, 3, 2], 0)).toBe(1);
  });
});

describe('GetMetricStatistics: errors (API Reference: Errors)', () => {
  it.each([
    ['no Namespace', { Namespace: undefined }, MissingRequiredParameterException],
    ['no MetricName', { MetricName: undefined }, MissingRequiredParameterException],
    ['no StartTime', { StartTime: undefined }, MissingRequiredParameterException],
    ['no EndTime', { EndTime: undefined }, MissingRequiredParameterException],
    ['no Period', { Period: undefined }, MissingRequiredParameterException],
    ['neither Statistics nor ExtendedStatistics', { Statistics: undefined }, MissingRequiredParameterException],
    ['both Statistics and ExtendedStatistics', { ExtendedStatistics: ['p99'] }, InvalidParameterCombinationException],
    ['a Period of 45 s', { Period: 45 }, InvalidParameterValueException],
    ['a Period of 90 s', { Period: 90 }, InvalidParameterValueException],
    ['a Period of 0', { Period: 0 }, ValidationException],
    ['StartTime equal to EndTime', { StartTime: new Date(NOW), EndTime: new Date(NOW) }, InvalidParameterValueException],
    ['StartTime after EndTime', { StartTime: new Date(NOW), EndTime: new Date(NOW - MINUTE) }, InvalidParameterValueException],
    ['an unknown statistic', { Statistics: ['Median'] }, ValidationException],
    ['more than 5 statistics', { Statistics: ['Sum', 'Sum', 'Sum', 'Sum', 'Sum', 'Sum'] }, ValidationException],
    ['a percentile above p100', { Statistics: undefined, ExtendedStatistics: ['p101'] }, InvalidParameterValueException],
    ['a statistic that is not a percentile in ExtendedStatistics', { Statistics: undefined, ExtendedStatistics: ['Sum'] }, InvalidParameterValueException],
    ['more than 10 percentiles', { Statistics: undefined, ExtendedStatistics: Array.from({ length: 11 }, (_, i) => `p${i}`) }, ValidationException],
    ['an unknown Unit', { Unit: 'Furlongs' }, ValidationException],
  ])('refuses %s', async (_what, overrides, expected) => {
    expect(await refusal(cloudwatch(), request(overrides))).toBeInstanceOf(expected);
  });

  it('refuses more than 1,440 datapoints with InvalidParameterCombination, and accepts exactly 1,440', async () => {
    const cw = cloudwatch();
    const day = { StartTime: new Date(NOW - 86_400_000), EndTime: new Date(NOW) };
    const error = await refusal(cw, request({ ...day, Period: 1 }));
    expect(error).toBeInstanceOf(InvalidParameterCombinationException);
    expect(error?.message).toBe(
      'You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
    );
    expect(await refusal(cw, request({ ...day, Period: 60 }))).toBeUndefined();
    expect(await refusal(cw, request({ StartTime: new Date(NOW - 1441 * MINUTE), EndTime: new Date(NOW), Period: 60 }))).toBeInstanceOf(
      InvalidParameterCombinationException,
    );
  });
});

describe('GetMetricStatistics through the SDK client', () => {
  it('returns Date timestamps and the ExtendedStatistics map the SDK models', async () => {
    vi.useRealTimers();
    const sandbox = await openSandbox();
    const now = Date.now();
    sandbox.cloudwatch.record('AWS/ApplicationELB', 'TargetResponseTime', TG, 0.2, now - 30_000, 'Seconds');
    const answer = await sandbox.clients.cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'TargetResponseTime',
        Dimensions: TG,
        StartTime: new Date(now - 5 * MINUTE),
        EndTime: new Date(now),
        Period: 60,
        ExtendedStatistics: ['p99'],
      }),
    );
    expect(answer.Label).toBe('TargetResponseTime');
    expect(answer.Datapoints).toHaveLength(1);
    expect(answer.Datapoints?.[0]?.Timestamp).toBeInstanceOf(Date);
    expect(answer.Datapoints?.[0]?.ExtendedStatistics).toEqual({ p99: 0.2 });
    await expect(
      sandbox.clients.cloudwatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'X',
          MetricName: 'Y',
          StartTime: new Date(now - MINUTE),
          EndTime: new Date(now),
          Period: 45,
          Statistics: ['Sum'],
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
  });
});

describe('GetMetricStatistics and IAM (Service Authorization Reference: cloudwatch:GetMetricStatistics has no resource type)', () => {
  it('is allowed by a grant on "*" and denied by one scoped to alarm ARNs', async () => {
    vi.useRealTimers();
    const role = (name: string, resource: string): [string, { roleName: string; documents: PolicyDocumentJson[] }] => [
      `arn:aws:iam::111122223333:role/${name}`,
      {
        roleName: name,
        documents: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'cloudwatch:GetMetricStatistics', Resource: resource }] }],
      },
    ];
    const authorizer = await IamAuthorizer.create({
      account: '111122223333',
      region: 'eu-west-2',
      roles: Object.fromEntries([role('judge', '*'), role('scoped', 'arn:aws:cloudwatch:eu-west-2:111122223333:alarm:*')]),
      functions: {},
      stateMachines: {},
      schedules: {},
    });
    const lookups: ResourceLookups = {
      account: '111122223333',
      region: 'eu-west-2',
      secretArn: () => undefined,
      rotationFunction: () => undefined,
      tokenStateMachine: () => undefined,
    };
    const call = (name: string): void =>
      authorizer.authorizeCall(
        { roleArn: `arn:aws:iam::111122223333:role/${name}`, sessionName: name },
        'cloudwatch',
        'GetMetricStatistics',
        request(),
        lookups,
      );
    expect(() => call('judge')).not.toThrow();
    expect(() => call('scoped')).toThrow(/not authorized to perform: cloudwatch:GetMetricStatistics on resource: \*/);
  });
});
