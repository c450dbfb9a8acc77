/**
 * What the canary judge reads: which target group serves which revision (from the
 * service's listener rules), and each revision's per-period metrics from CloudWatch
 * (the load balancer's per-target-group metrics, and the fleet's judge metrics
 * published with a TargetGroup dimension).
 */
import { GetMetricStatisticsCommand, type Datapoint, type Dimension } from '@aws-sdk/client-cloudwatch';
import { DescribeRulesCommand, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { FleetService } from '../../../lib/fleet/fleet';
import type { JudgeMetric, TrafficShift } from '../../../lib/fleet/fleet-schema';
import { ServiceStateError } from '../runtime/errors';
import type { HandlerDeps } from '../runtime/handler';
import {
  alignSamples,
  describeAlignment,
  ERROR_RATE_METRIC,
  errorRateSeries,
  RESPONSE_TIME_METRIC,
  type JudgeSettings,
  type MetricSamples,
  type Series,
} from './canary-judge';

export interface TrafficTargets {
  /** The new revision's target group: the one the test listener rule forwards to. */
  readonly newTargetGroupArn: string;
  /** The old revision's: the other target group of the production rule. */
  readonly oldTargetGroupArn: string;
  /** Production weights (0–100) of the two target groups now. */
  readonly newProductionWeight: number;
  readonly oldProductionWeight: number;
  /** The LoadBalancer dimension value, `app/<name>/<id>`. */
  readonly loadBalancer: string;
}

/** `targetgroup/<name>/<id>`: the TargetGroup dimension value, the ARN's part after the last `:`. */
export const targetGroupDimension = (targetGroupArn: string): string => targetGroupArn.split(':').pop() ?? targetGroupArn;

/** `app/<name>/<id>` from a listener (rule) ARN: the LoadBalancer dimension value. */
export function loadBalancerDimension(listenerRuleArn: string): string {
  const resource = listenerRuleArn.split(':').pop() ?? '';
  const parts = resource.split('/');
  return parts.slice(1, 4).join('/');
}

function forwardedGroups(rule: Rule | undefined): { readonly arn: string; readonly weight: number }[] {
  const action = rule?.Actions?.find((a) => a.Type === 'forward');
  if (!action) return [];
  const groups = action.ForwardConfig?.TargetGroups ?? [];
  if (groups.length > 0) return groups.filter((g) => g.TargetGroupArn).map((g) => ({ arn: g.TargetGroupArn as string, weight: g.Weight ?? 1 }));
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: 100 }] : [];
}

/** Reads the listener rules: the test rule's target group is the new revision's, the production rule's other one the old's. */
export async function findTrafficTargets(deps: Pick<HandlerDeps<'elbv2'>, 'clients'>, trafficShift: TrafficShift): Promise<TrafficTargets> {
  const described = await deps.clients.elbv2.send(
    new DescribeRulesCommand({ RuleArns: [trafficShift.productionListenerRuleArn, trafficShift.testListenerRuleArn] }),
  );
  const rules = described.Rules ?? [];
  const production = forwardedGroups(rules.find((r) => r.RuleArn === trafficShift.productionListenerRuleArn));
  const test = forwardedGroups(rules.find((r) => r.RuleArn === trafficShift.testListenerRuleArn));
  const pair = [trafficShift.targetGroupArn, trafficShift.alternateTargetGroupArn];
  const newTargetGroupArn = [...test].sort((a, b) => b.weight - a.weight)[0]?.arn;
  if (!newTargetGroupArn || !pair.includes(newTargetGroupArn)) {
    throw new ServiceStateError(`The test listener rule ${trafficShift.testListenerRuleArn} does not forward to either of the service's target groups`);
  }
  const oldTargetGroupArn = production.find((g) => g.arn !== newTargetGroupArn)?.arn ?? pair.find((arn) => arn !== newTargetGroupArn);
  if (!oldTargetGroupArn) throw new ServiceStateError(`No target group of the old revision behind ${trafficShift.productionListenerRuleArn}`);
  const total = production.reduce((sum, g) => sum + g.weight, 0);
  const share = (arn: string): number => (total > 0 ? (100 * production.filter((g) => g.arn === arn).reduce((sum, g) => sum + g.weight, 0)) / total : 0);
  return {
    newTargetGroupArn,
    oldTargetGroupArn,
    newProductionWeight: share(newTargetGroupArn),
    oldProductionWeight: share(oldTargetGroupArn),
    loadBalancer: loadBalancerDimension(trafficShift.productionListenerRuleArn),
  };
}

type Statistic = 'Sum' | 'Average' | 'Minimum' | 'Maximum' | 'p99';

interface MetricQuery {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: readonly Dimension[];
  readonly statistic: Statistic;
}

function datapointValue(point: Datapoint, statistic: Statistic): number | undefined {
  return statistic === 'p99' ? point.ExtendedStatistics?.p99 : point[statistic];
}

async function readSeries(
  deps: Pick<HandlerDeps<'cloudwatch'>, 'clients'>,
  query: MetricQuery,
  window: { readonly start: number; readonly end: number; readonly periodSeconds: number },
): Promise<Series> {
  const result = await deps.clients.cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: query.namespace,
      MetricName: query.name,
      Dimensions: [...query.dimensions],
      StartTime: new Date(window.start),
      EndTime: new Date(window.end),
      Period: window.periodSeconds,
      ...(query.statistic === 'p99' ? { ExtendedStatistics: ['p99'] } : { Statistics: [query.statistic] }),
    }),
  );
  const period = window.periodSeconds * 1000;
  const series = new Map<number, number>();
  for (const point of result.Datapoints ?? []) {
    const value = datapointValue(point, query.statistic);
    if (!point.Timestamp || value === undefined || !Number.isFinite(value)) continue;
    series.set(Math.floor(point.Timestamp.getTime() / period) * period, value);
  }
  return series;
}

/** A fleet judge metric's name in verdicts: `<namespace>/<name>`. */
export const judgeMetricName = (metric: JudgeMetric): string => `${metric.namespace}/${metric.name}`;

export interface RevisionSeries {
  readonly requests: Series;
  readonly errors: Series;
  readonly p99: Series;
  readonly judgeMetrics: readonly Series[];
}

/** One revision's series (its target group) over the window. */
export async function readRevisionSeries(
  deps: Pick<HandlerDeps<'cloudwatch'>, 'clients'>,
  target: { readonly targetGroupArn: string; readonly loadBalancer: string; readonly judgeMetrics: readonly JudgeMetric[] },
  window: { readonly start: number; readonly end: number; readonly periodSeconds: number },
): Promise<RevisionSeries> {
  const targetGroup = { Name: 'TargetGroup', Value: targetGroupDimension(target.targetGroupArn) };
  const elb = [targetGroup, { Name: 'LoadBalancer', Value: target.loadBalancer }];
  const alb = (name: string, statistic: Statistic): MetricQuery => ({ namespace: 'AWS/ApplicationELB', name, dimensions: elb, statistic });
  const [requests, errors, p99, ...judgeMetrics] = await Promise.all([
    readSeries(deps, alb('RequestCount', 'Sum'), window),
    readSeries(deps, alb('HTTPCode_Target_5XX_Count', 'Sum'), window),
    readSeries(deps, alb('TargetResponseTime', 'p99'), window),
    ...target.judgeMetrics.map((m) =>
      readSeries(
        deps,
        {
          namespace: m.namespace,
          name: m.name,
          dimensions: [...Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })), targetGroup],
          statistic: m.statistic,
        },
        window,
      ),
    ),
  ]);
  return { requests: requests as Series, errors: errors as Series, p99: p99 as Series, judgeMetrics };
}

export interface CanarySamples {
  readonly metrics: readonly MetricSamples[];
  /** How the samples were aligned, for the verdict's reason. */
  readonly notes: readonly string[];
  readonly window: { readonly start: string; readonly end: string };
  readonly requests: { readonly baseline: number; readonly canary: number };
  readonly errors: { readonly baseline: number; readonly canary: number };
}

/** How far back the old revision's history is read when it has no production traffic any more. */
const HISTORY_LOOKBACK_MS = 60 * 60_000;

/**
 * Both revisions' samples for the step that began at `stepStartedAt`, up to the
 * last complete period before `now` (see alignSamples for the rule).
 */
export async function collectCanarySamples(
  deps: Pick<HandlerDeps<'cloudwatch'>, 'clients'>,
  service: Pick<FleetService, 'judgeMetrics'>,
  targets: TrafficTargets,
  settings: Pick<JudgeSettings, 'periodSeconds' | 'minSamples' | 'errorRateTolerance'>,
  stepStartedAt: Date,
  now: Date,
): Promise<CanarySamples> {
  const period = settings.periodSeconds * 1000;
  // Whole periods only: from the first that starts after the step began, to the last that has ended.
  const start = Math.ceil(stepStartedAt.getTime() / period) * period;
  const end = Math.floor(now.getTime() / period) * period;
  const read = { start: Math.min(start, end) - HISTORY_LOOKBACK_MS, end: Math.max(end, start), periodSeconds: settings.periodSeconds };
  const [baseline, canary] = await Promise.all([
    readRevisionSeries(deps, { targetGroupArn: targets.oldTargetGroupArn, loadBalancer: targets.loadBalancer, judgeMetrics: service.judgeMetrics }, read),
    readRevisionSeries(deps, { targetGroupArn: targets.newTargetGroupArn, loadBalancer: targets.loadBalancer, judgeMetrics: service.judgeMetrics }, read),
  ]);
  const window = { start, end };
  const options = { baselineHasTraffic: targets.oldProductionWeight > 0, minSamples: settings.minSamples };
  const pairs: { name: string; failWhen: 'higher' | 'lower'; baseline: Series; canary: Series; tolerance?: number }[] = [
    {
      name: ERROR_RATE_METRIC,
      failWhen: 'higher',
      baseline: errorRateSeries(baseline.requests, baseline.errors),
      canary: errorRateSeries(canary.requests, canary.errors),
      tolerance: settings.errorRateTolerance,
    },
    { name: RESPONSE_TIME_METRIC, failWhen: 'higher', baseline: baseline.p99, canary: canary.p99 },
    ...service.judgeMetrics.map((m, i) => ({
      name: judgeMetricName(m),
      failWhen: m.failWhen,
      baseline: baseline.judgeMetrics[i] ?? new Map<number, number>(),
      canary: canary.judgeMetrics[i] ?? new Map<number, number>(),
    })),
  ];
  const notes: string[] = [];
  const metrics = pairs.map((pair) => {
    const aligned = alignSamples(pair.baseline, pair.canary, window, options);
    const note = describeAlignment(pair.name, aligned);
    if (note && notes.length === 0) notes.push(note);
    return {
      name: pair.name,
      failWhen: pair.failWhen,
      baseline: aligned.baseline,
      canary: aligned.canary,
      ...(pair.tolerance === undefined ? {} : { tolerance: pair.tolerance }),
    };
  });
  const total = (series: Series, from: number): number => [...series.entries()].filter(([at]) => at >= from && at < end).reduce((sum, [, v]) => sum + v, 0);
  return {
    metrics,
    notes,
    window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
    requests: { baseline: total(baseline.requests, start), canary: total(canary.requests, start) },
    errors: { baseline: total(baseline.errors, start), canary: total(canary.errors, start) },
  };
}
