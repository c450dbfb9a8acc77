/**
 * Per-target-group load balancer metrics and per-revision judge metrics, from a hand-built
 * traffic view: requests split by the listener rules' weights, errors and response times
 * following each revision's image behaviour, read back with GetMetricStatistics.
 */
import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { SimulatedCloudWatch } from '../../lib/sandbox/simulated-cloudwatch';
import { ERROR_ONSET_MS, ImageCatalogue, type ImageBehaviour } from '../../lib/sandbox/simulated-workloads';
import {
  elbDimensions,
  loadBalancerDimension,
  targetGroupDimension,
  TargetGroupMetrics,
  type ServingTask,
  type TargetGroupTraffic,
} from '../../lib/sandbox/target-group-metrics';
import { fleetWith, openSandbox } from '../support/sandbox';

const T0 = Date.parse('2026-01-05T06:00:00Z');
const MINUTE = 60_000;
const fleet = fleetWith();
const shift = fleet.services['order-gateway']?.trafficShift;
if (!shift) throw new Error('the example fleet gives order-gateway a trafficShift');
const BLUE = shift.targetGroupArn;
const GREEN = shift.alternateTargetGroupArn;
const RULE = shift.productionListenerRuleArn;
const OLD = `${fleet.services['order-gateway']?.imageRepository ?? ''}@sha256:${'a'.repeat(64)}`;
const NEW = `${fleet.services['order-gateway']?.imageRepository ?? ''}@sha256:${'b'.repeat(64)}`;

afterEach(() => {
  vi.useRealTimers();
});

interface World {
  readonly cloudwatch: SimulatedCloudWatch;
  readonly metrics: TargetGroupMetrics;
  readonly groups: TargetGroupTraffic[];
  /** Runs the 10-second metric rounds up to `until`. */
  run(until: number): void;
  stat(targetGroupArn: string, metricName: string, query: Record<string, unknown>): { t: number; value: number | undefined }[];
}

function world(newBehaviour: ImageBehaviour, groups: TargetGroupTraffic[]): World {
  const cloudwatch = new SimulatedCloudWatch({ account: '111122223333', region: 'eu-west-2', random: new SeededRandom(1) });
  const images = new ImageCatalogue();
  images.set(NEW, newBehaviour);
  const metrics = new TargetGroupMetrics({ fleet, view: { targetGroups: () => groups }, cloudwatch, behaviourOf: (image) => images.behaviourOf(image) });
  let now = T0;
  metrics.advance(now);
  return {
    cloudwatch,
    metrics,
    groups,
    run(until) {
      while (now < until) {
        now += 10_000;
        metrics.advance(now);
      }
    },
    stat(targetGroupArn, metricName, query) {
      vi.useFakeTimers({ now, toFake: ['Date'] });
      const result = cloudwatch.getMetricStatistics({
        Namespace: 'AWS/ApplicationELB',
        MetricName: metricName,
        Dimensions: elbDimensions(targetGroupArn, RULE),
        StartTime: new Date(T0),
        EndTime: new Date(now),
        Period: 60,
        ...query,
      });
      vi.useRealTimers();
      return result.Datapoints.map((d) => ({
        t: d.Timestamp.getTime() - T0,
        value: d.Sum ?? d.Average ?? d.SampleCount ?? d.ExtendedStatistics?.p99,
      }));
    },
  };
}

const tasks = (image: string, count: number, startedAt = T0): ServingTask[] => Array.from({ length: count }, () => ({ image, startedAt }));

const group = (targetGroupArn: string, productionShare: number, testShare: number, servingTasks: ServingTask[]): TargetGroupTraffic => ({
  serviceId: 'order-gateway',
  targetGroupArn,
  loadBalancer: RULE,
  productionShare,
  testShare,
  servingTasks,
});

describe('dimensions', () => {
  it('names the target group by its ARN after the last colon, the load balancer as app/<name>/<id> from a listener rule ARN', () => {
    expect(targetGroupDimension(BLUE)).toBe('targetgroup/order-gateway-blue/0a1b2c3d4e5f6061');
    expect(loadBalancerDimension(RULE)).toBe('app/trading-prod/0a1b2c3d4e5f6071');
    expect(loadBalancerDimension('arn:aws:elasticloadbalancing:eu-west-2:111122223333:loadbalancer/app/trading-prod/0a1b2c3d4e5f6071')).toBe(
      'app/trading-prod/0a1b2c3d4e5f6071',
    );
    expect(loadBalancerDimension('app/x/1')).toBe('app/x/1');
  });
});

describe('a canary at 5 % of production traffic', () => {
  it("splits the service's 6,000 requests a minute by weight, one datapoint per target group per minute", () => {
    const w = world('healthy', [group(BLUE, 0.95, 0, tasks(OLD, 4)), group(GREEN, 0.05, 0, tasks(NEW, 1))]);
    w.run(T0 + 5 * MINUTE);
    expect(w.stat(BLUE, 'RequestCount', { Statistics: ['Sum'] })).toEqual([0, 1, 2, 3, 4].map((m) => ({ t: m * MINUTE, value: 5700 })));
    expect(w.stat(GREEN, 'RequestCount', { Statistics: ['Sum'] })).toEqual([0, 1, 2, 3, 4].map((m) => ({ t: m * MINUTE, value: 300 })));
  });

  it('shows a high-error-rate release failing a quarter of its own requests from the error onset, and nothing on the old target group', () => {
    const w = world('high-error-rate', [group(BLUE, 0.95, 0, tasks(OLD, 4)), group(GREEN, 0.05, 0, tasks(NEW, 2))]);
    w.run(T0 + 20 * MINUTE);
    const green = w.stat(GREEN, 'HTTPCode_Target_5XX_Count', { Statistics: ['Sum'] });
    const onsetMinute = ERROR_ONSET_MS / MINUTE;
    const after = green.filter((d) => d.t >= onsetMinute * MINUTE).reduce((sum, d) => sum + (d.value ?? 0), 0);
    const requests = 300 * (20 - onsetMinute);
    expect(after / requests).toBeGreaterThan(0.17);
    expect(after / requests).toBeLessThan(0.33);
    // Before the onset: the stray 0.2 % of about 900 requests (2 % at most), nothing like a quarter.
    expect(green.filter((d) => d.t < onsetMinute * MINUTE).reduce((sum, d) => sum + (d.value ?? 0), 0)).toBeLessThanOrEqual(18);
    const blueErrors = w.stat(BLUE, 'HTTPCode_Target_5XX_Count', { Statistics: ['Sum'] }).reduce((sum, d) => sum + (d.value ?? 0), 0);
    // 0.2 % of 20 × 5,700 requests: about 228.
    expect(blueErrors).toBeLessThan(300);
    // p99 of the response time: the failing requests wait on a timed-out dependency.
    const greenP99 = w.stat(GREEN, 'TargetResponseTime', { ExtendedStatistics: ['p99'] });
    expect(greenP99.filter((d) => d.t >= onsetMinute * MINUTE).every((d) => (d.value ?? 0) > 1)).toBe(true);
    const blueP99 = w.stat(BLUE, 'TargetResponseTime', { ExtendedStatistics: ['p99'] });
    expect(blueP99).toHaveLength(20);
    expect(blueP99.every((d) => (d.value ?? 1) < 0.3)).toBe(true);
  });

  it('publishes several raw response times a minute, so p99 differs from the average', () => {
    const w = world('healthy', [group(BLUE, 1, 0, tasks(OLD, 4))]);
    w.run(T0 + 3 * MINUTE);
    const [count] = w.stat(BLUE, 'TargetResponseTime', { Statistics: ['SampleCount'] }).map((d) => d.value);
    expect(count).toBe(100);
    const average = w.stat(BLUE, 'TargetResponseTime', { Statistics: ['Average'] })[0]?.value ?? 0;
    const p99 = w.stat(BLUE, 'TargetResponseTime', { ExtendedStatistics: ['p99'] })[0]?.value ?? 0;
    expect(average).toBeGreaterThan(0.04);
    expect(average).toBeLessThan(0.08);
    expect(p99).toBeGreaterThan(average);
  });

  it('serves a failing-health-check release normally on the load balancer (only its deep health endpoint fails)', () => {
    const w = world('failing-health-check', [group(BLUE, 0.5, 0, tasks(OLD, 2)), group(GREEN, 0.5, 0, tasks(NEW, 2))]);
    w.run(T0 + 10 * MINUTE);
    const errors = w.stat(GREEN, 'HTTPCode_Target_5XX_Count', { Statistics: ['Sum'] }).reduce((sum, d) => sum + (d.value ?? 0), 0);
    expect(errors).toBeLessThan(300);
  });
});

describe('test traffic and weight changes', () => {
  it('sends test-listener traffic to the revision under test with no production share', () => {
    const w = world('healthy', [group(BLUE, 1, 0, tasks(OLD, 4)), group(GREEN, 0, 1, tasks(NEW, 2))]);
    w.run(T0 + 2 * MINUTE);
    expect(w.stat(GREEN, 'RequestCount', { Statistics: ['Sum'] }).map((d) => d.value)).toEqual([600, 600]);
    expect(w.stat(BLUE, 'RequestCount', { Statistics: ['Sum'] }).map((d) => d.value)).toEqual([6000, 6000]);
  });

  it('counts the requests of a minute in which the weights changed at the weights of each part of it', () => {
    const groups = [group(BLUE, 1, 0, tasks(OLD, 4)), group(GREEN, 0, 0, tasks(NEW, 2))];
    const w = world('healthy', groups);
    w.run(T0 + MINUTE + 30_000);
    // Half-way through the second minute all production traffic moves to green.
    groups[0] = group(BLUE, 0, 0, tasks(OLD, 4));
    groups[1] = group(GREEN, 1, 0, tasks(NEW, 2));
    w.run(T0 + 3 * MINUTE);
    expect(w.stat(BLUE, 'RequestCount', { Statistics: ['Sum'] }).map((d) => d.value)).toEqual([6000, 3000]);
    expect(w.stat(GREEN, 'RequestCount', { Statistics: ['Sum'] }).map((d) => [d.t / MINUTE, d.value])).toEqual([
      [1, 3000],
      [2, 6000],
    ]);
  });

  it('publishes nothing for a target group without serving tasks or without traffic', () => {
    const w = world('healthy', [group(BLUE, 1, 0, []), group(GREEN, 0, 0, tasks(NEW, 2))]);
    w.run(T0 + 3 * MINUTE);
    expect(w.stat(BLUE, 'RequestCount', { Statistics: ['Sum'] })).toEqual([]);
    expect(w.stat(GREEN, 'RequestCount', { Statistics: ['Sum'] })).toEqual([]);
  });
});

describe('judge metrics per revision', () => {
  it("publishes the fleet's judge metrics with the extra TargetGroup dimension: a rejecting-orders release at 15 %", () => {
    const w = world('rejecting-orders', [group(BLUE, 0.9, 0, tasks(OLD, 4)), group(GREEN, 0.1, 0, tasks(NEW, 1))]);
    w.run(T0 + 3 * MINUTE);
    vi.useFakeTimers({ now: T0 + 3 * MINUTE, toFake: ['Date'] });
    const rejectRate = (arn: string): (number | undefined)[] =>
      w.cloudwatch
        .getMetricStatistics({
          Namespace: 'Trading',
          MetricName: 'OrderRejectRate',
          Dimensions: [
            { Name: 'Service', Value: 'order-gateway' },
            { Name: 'TargetGroup', Value: targetGroupDimension(arn) },
          ],
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 3 * MINUTE),
          Period: 60,
          Statistics: ['Average'],
        })
        .Datapoints.map((d) => d.Average);
    expect(rejectRate(GREEN)).toEqual([15, 15, 15]);
    expect(rejectRate(BLUE)).toEqual([0.4, 0.4, 0.4]);
  });

  it('skips a halted revision (a halted service sends no orders)', () => {
    const w = world('healthy', [group(GREEN, 1, 0, [{ image: NEW, startedAt: T0, halted: true }])]);
    w.run(T0 + 2 * MINUTE);
    vi.useFakeTimers({ now: T0 + 2 * MINUTE, toFake: ['Date'] });
    const answer = w.cloudwatch.getMetricStatistics({
      Namespace: 'Trading',
      MetricName: 'OrderRejectRate',
      Dimensions: [
        { Name: 'Service', Value: 'order-gateway' },
        { Name: 'TargetGroup', Value: targetGroupDimension(GREEN) },
      ],
      StartTime: new Date(T0),
      EndTime: new Date(T0 + 2 * MINUTE),
      Period: 60,
      Statistics: ['Average'],
    });
    expect(answer.Datapoints).toEqual([]);
  });
});

describe('in a sandbox, on the virtual clock', () => {
  it("publishes order-gateway's traffic on its production target group every minute, read back through the SDK as a judge would", async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    expect(sandbox.fleet.services['order-gateway']?.trafficShift?.targetGroupArn).toBe(BLUE);
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + MINUTE;
    // The sandbox's own telemetry round (every 10 s) serves the traffic the listener rules send there.
    await sandbox.clock.advance(6 * MINUTE);
    const answer = await sandbox.clients.cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'RequestCount',
        Dimensions: elbDimensions(BLUE, RULE),
        StartTime: new Date(start),
        EndTime: new Date(start + 5 * MINUTE),
        Period: 60,
        Statistics: ['Sum'],
      }),
    );
    // 6,000 production requests a minute, and 600 on the test listener rule, which points at blue between deployments.
    expect(answer.Datapoints?.map((d) => d.Sum)).toEqual([6600, 6600, 6600, 6600, 6600]);
    expect(answer.Datapoints?.every((d) => d.Unit === 'Count')).toBe(true);
  });
});
