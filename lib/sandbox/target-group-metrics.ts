/**
 * What an Application Load Balancer publishes per target group, and what the
 * applications behind it publish per revision, so a canary judge can compare two
 * revisions of one service on the same minutes.
 *
 * Each minute of virtual time, for every target group that received requests:
 * - `AWS/ApplicationELB` `RequestCount` (one datapoint, the minute's requests; unit Count),
 *   `HTTPCode_Target_5XX_Count` (the minute's 5xx answers from the targets; unit Count;
 *   no datapoint when there were none, as ALB reports it) and `TargetResponseTime`
 *   (unit Seconds; a sample of up to RESPONSE_TIME_SAMPLES of the minute's requests as raw
 *   values, so GetMetricStatistics can compute p99), all with the dimensions
 *   `[{TargetGroup: 'targetgroup/<name>/<id>'}, {LoadBalancer: 'app/<name>/<id>'}]`;
 * - each of the service's judge metrics (fleet `judge.metrics`, e.g. Trading/OrderRejectRate
 *   {Service: order-gateway}) from the target group's serving tasks, with the extra
 *   dimension `TargetGroup: targetgroup/<name>/<id>`.
 * Datapoints carry the minute's start as their timestamp and are published when the minute
 * ends. A target group with no serving task gets no requests (the load balancer answers
 * them itself) and publishes nothing.
 *
 * Traffic: a service receives PRODUCTION_REQUESTS_PER_MINUTE production requests, split
 * among its target groups by `productionShare` (the production listener rule's weights),
 * plus TEST_REQUESTS_PER_MINUTE test requests to the groups with a `testShare` (the test
 * listener rule). Within a target group the serving tasks share the requests equally;
 * each task's requests fail and take as long as its image's behaviour says
 * (simulated-workloads.ts: requestErrorRate, responseTimeSeconds, metricSample).
 *
 * Virtual time: `advance(now)` serves the traffic of the time since its previous call at
 * the view's current weights, minute boundaries included; call it on every metric round
 * (the sandbox's telemetry runs every 10 s). Draws come from a generator of its own, so
 * the account's seeded random sequence is untouched.
 */
import type { Fleet } from '../fleet/fleet';
import { SeededRandom } from './deterministic';
import type { Dimension } from './simulated-cloudwatch';
import {
  combineSamples,
  type ImageBehaviour,
  metricSample,
  PRODUCTION_REQUESTS_PER_MINUTE,
  requestErrorRate,
  responseTimeSeconds,
  TEST_REQUESTS_PER_MINUTE,
} from './simulated-workloads';

/** A task registered and healthy in a target group, serving its requests. */
export interface ServingTask {
  /** The container image as the task definition names it (tag or digest form); its behaviour comes from the image catalogue. */
  readonly image: string;
  /** When the task started running (epoch ms, virtual time). */
  readonly startedAt: number;
  /** Whether the application is halted (it then places no orders: no OrderRejectRate). */
  readonly halted?: boolean;
}

/** One target group of a service as traffic reaches it now. */
export interface TargetGroupTraffic {
  /** The fleet service id (e.g. `order-gateway`). */
  readonly serviceId: string;
  readonly targetGroupArn: string;
  /**
   * The load balancer: its `LoadBalancer` dimension value (`app/<name>/<id>`), or the ARN of
   * one of its listener rules or listeners (the value is derived from it).
   */
  readonly loadBalancer: string;
  /** Share of the service's production requests routed here (the production rule's weight / 100), 0..1. */
  readonly productionShare: number;
  /** Share of the test listener rule's requests routed here, 0..1 (1 for the revision under test, else 0). */
  readonly testShare: number;
  /** The tasks serving this target group's requests (registered and healthy). */
  readonly servingTasks: readonly ServingTask[];
  /** Production requests per minute when not the default PRODUCTION_REQUESTS_PER_MINUTE. */
  readonly productionRequestsPerMinute?: number;
}

/**
 * How traffic reaches the target groups right now: the simulated ELB and ECS provide it
 * (the production and test listener rules' weights, each target group's healthy targets).
 */
export interface TrafficView {
  targetGroups(): readonly TargetGroupTraffic[];
}

export interface TargetGroupMetricsOptions {
  readonly fleet: Fleet;
  readonly view: TrafficView;
  /** Where datapoints go: SimulatedCloudWatch.record. */
  readonly cloudwatch: { record(namespace: string, metricName: string, dimensions: readonly Dimension[], value: number, at?: number, unit?: string): void };
  /** How a task running this image behaves (ImageCatalogue.behaviourOf). */
  readonly behaviourOf: (image: string) => ImageBehaviour;
  /** Seed of the request draws. */
  readonly seed?: number;
}

export const ELB_NAMESPACE = 'AWS/ApplicationELB';
/** The most raw TargetResponseTime values a target group publishes per minute. */
export const RESPONSE_TIME_SAMPLES = 100;
const MINUTE_MS = 60_000;
/** After a long gap between rounds (a restored sandbox), only this much traffic is made up. */
const MAX_CATCH_UP_MS = 10 * MINUTE_MS;

/** `targetgroup/<name>/<id>`: the part of a target group ARN after its last `:`. */
export function targetGroupDimension(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.lastIndexOf(':') + 1);
}

/**
 * `app/<name>/<id>` from a load balancer, listener or listener-rule ARN
 * (`...:listener-rule/app/<name>/<id>/<listener>/<rule>`), or the value itself.
 */
export function loadBalancerDimension(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const resource = value.split(':').slice(5).join(':');
  const parts = resource.split('/');
  return parts.slice(1, 4).join('/');
}

export function elbDimensions(targetGroupArn: string, loadBalancer: string): Dimension[] {
  return [
    { Name: 'TargetGroup', Value: targetGroupDimension(targetGroupArn) },
    { Name: 'LoadBalancer', Value: loadBalancerDimension(loadBalancer) },
  ];
}

interface MinuteTotals {
  readonly traffic: TargetGroupTraffic;
  requests: number;
  errors: number;
  /** A uniform reservoir sample of the minute's response times. */
  readonly latencies: number[];
}

export class TargetGroupMetrics {
  private readonly random: SeededRandom;
  private last: number | undefined;
  /** Fractions of a request carried to the next round, by target group. */
  private readonly carry = new Map<string, number>();
  private minute = new Map<string, MinuteTotals>();

  constructor(private readonly options: TargetGroupMetricsOptions) {
    this.random = new SeededRandom(options.seed ?? 0x7a26e7);
  }

  /** Serves the traffic since the previous call, publishing every minute that ended. The first call only starts the clock. */
  advance(now = Date.now()): void {
    if (this.last === undefined || now <= this.last) {
      this.last ??= now;
      return;
    }
    let at = Math.max(this.last, now - MAX_CATCH_UP_MS);
    while (at < now) {
      const boundary = Math.floor(at / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      const until = Math.min(now, boundary);
      this.serve(until - at, until);
      if (until === boundary) this.publish(boundary - MINUTE_MS, boundary);
      at = until;
    }
    this.last = now;
  }

  /** The requests of `elapsedMs` at the view's current weights. */
  private serve(elapsedMs: number, at: number): void {
    for (const traffic of this.options.view.targetGroups()) {
      if (traffic.servingTasks.length === 0) continue;
      const perMinute =
        (traffic.productionRequestsPerMinute ?? PRODUCTION_REQUESTS_PER_MINUTE) * clampShare(traffic.productionShare) +
        TEST_REQUESTS_PER_MINUTE * clampShare(traffic.testShare);
      const expected = (perMinute * elapsedMs) / MINUTE_MS + (this.carry.get(traffic.targetGroupArn) ?? 0);
      const requests = Math.floor(expected);
      this.carry.set(traffic.targetGroupArn, expected - requests);
      if (requests === 0) continue;
      let totals = this.minute.get(traffic.targetGroupArn);
      if (!totals) this.minute.set(traffic.targetGroupArn, (totals = { traffic, requests: 0, errors: 0, latencies: [] }));
      const tasks = traffic.servingTasks;
      for (let i = 0; i < requests; i += 1) {
        // Round-robin over the serving tasks.
        const task = tasks[(totals.requests + i) % tasks.length] as ServingTask;
        const behaviour = this.options.behaviourOf(task.image);
        const failed = this.random.next() < requestErrorRate(behaviour, at - task.startedAt);
        if (failed) totals.errors += 1;
        const latency = responseTimeSeconds(behaviour, failed, this.random.next());
        const seen = totals.requests + i + 1;
        if (totals.latencies.length < RESPONSE_TIME_SAMPLES) totals.latencies.push(latency);
        else {
          const slot = Math.floor(this.random.next() * seen);
          if (slot < RESPONSE_TIME_SAMPLES) totals.latencies[slot] = latency;
        }
      }
      totals.requests += requests;
    }
  }

  /** The minute starting at `minuteStart` ended at `at`: its datapoints. */
  private publish(minuteStart: number, at: number): void {
    const { cloudwatch, fleet } = this.options;
    const current = new Map(this.options.view.targetGroups().map((t) => [t.targetGroupArn, t]));
    for (const [arn, totals] of this.minute) {
      const traffic = current.get(arn) ?? totals.traffic;
      const dimensions = elbDimensions(arn, traffic.loadBalancer);
      cloudwatch.record(ELB_NAMESPACE, 'RequestCount', dimensions, totals.requests, minuteStart, 'Count');
      if (totals.errors > 0) cloudwatch.record(ELB_NAMESPACE, 'HTTPCode_Target_5XX_Count', dimensions, totals.errors, minuteStart, 'Count');
      for (const latency of totals.latencies) cloudwatch.record(ELB_NAMESPACE, 'TargetResponseTime', dimensions, latency, minuteStart, 'Seconds');
      const service = fleet.services[traffic.serviceId];
      for (const metric of service?.judgeMetrics ?? []) {
        const samples = traffic.servingTasks
          .map((task) => metricSample(metric.name, this.options.behaviourOf(task.image), at - task.startedAt, task.halted === true))
          .filter((v): v is number => v !== undefined);
        if (samples.length === 0) continue;
        const judgeDimensions = [
          ...Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
          { Name: 'TargetGroup', Value: targetGroupDimension(arn) },
        ];
        cloudwatch.record(metric.namespace, metric.name, judgeDimensions, combineSamples(metric.name, samples), minuteStart);
      }
    }
    this.minute = new Map();
  }
}

const clampShare = (share: number): number => (Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0);
