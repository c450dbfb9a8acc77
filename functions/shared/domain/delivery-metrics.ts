/**
 * What Assure measures about its own delivery process: the CloudWatch metrics its
 * handlers emit as embedded metric format (EMF) log lines, which the dashboard
 * graphs and `assure report` reads back to compute the DORA measures. Each name,
 * unit and dimension is written here once.
 */

/** The CloudWatch namespace of every Assure metric. */
export const METRICS_NAMESPACE = 'Assure';

/** The dimension keys. Every metric carries `environment` and `service` (`fleet` for fleet-wide events). */
export const METRIC_DIMENSIONS = {
  environment: 'environment',
  service: 'service',
  /** Why a rollback happened: one of ROLLBACK_CAUSES. */
  cause: 'cause',
  /** Why an event was refused: one of REFUSAL_REASONS. */
  reason: 'reason',
  /** What a scaling decision was: one of SCALING_DECISIONS. */
  decision: 'decision',
} as const;

/** The `service` dimension's value for what concerns the whole fleet (a halt, a resume). */
export const FLEET_SERVICE = 'fleet';

export const ROLLBACK_CAUSES = ['alarm', 'circuit-breaker', 'health-gate', 'canary-judge', 'release-wave', 'manual'] as const;
export type RollbackCause = (typeof ROLLBACK_CAUSES)[number];

export const REFUSAL_REASONS = [
  'untrusted-source',
  'unknown-alarm',
  'stale',
  'cooldown',
  'already-rolled-back',
  'budget-spent',
  'halted',
  'no-deployment',
  'invalid',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const SCALING_DECISIONS = ['scale-out', 'scale-in', 'hold', 'refused'] as const;
export type ScalingDecision = (typeof SCALING_DECISIONS)[number];

export type MetricUnit = 'Count' | 'Seconds';

export interface DeliveryMetric {
  readonly name: string;
  readonly unit: MetricUnit;
  /** Dimension keys beyond environment and service. */
  readonly extraDimensions: readonly (keyof typeof METRIC_DIMENSIONS)[];
  readonly description: string;
}

const metric = (name: string, unit: MetricUnit, description: string, extraDimensions: DeliveryMetric['extraDimensions'] = []): DeliveryMetric => ({
  name,
  unit,
  extraDimensions,
  description,
});

/**
 * Every Assure metric. Counts are emitted as 1 per event (Sum gives the count);
 * durations once per event in seconds (p50/p90 give the distribution).
 */
export const DELIVERY_METRICS = {
  deploysStarted: metric('DeploysStarted', 'Count', 'a deployment of a new revision began changing the service'),
  deploysSucceeded: metric('DeploysSucceeded', 'Count', 'a deployment ended with all traffic on the new revision'),
  deploysRolledBack: metric('DeploysRolledBack', 'Count', 'a deployment ended with the previous revision restored'),
  deploysFailed: metric('DeploysFailed', 'Count', 'a deployment failed and the service was left for a person (no automatic restore)'),
  leadTimeSeconds: metric('LeadTimeSeconds', 'Seconds', 'push (or request) to traffic fully on the new revision'),
  timeToRestoreSeconds: metric('TimeToRestoreSeconds', 'Seconds', 'failure detected to the previous revision healthy again'),
  rollbacks: metric('Rollbacks', 'Count', 'a rollback, by cause', ['cause']),
  halts: metric('Halts', 'Count', 'trading halted (the halt flag raised)'),
  haltToVerifiedSeconds: metric('HaltToVerifiedSeconds', 'Seconds', 'halt flag raised to every service verified halted'),
  tradingHalted: metric('TradingHalted', 'Count', 'the trading state as a gauge: 1 when the halt flag is raised, 0 when it is cleared'),
  scalingDecisions: metric('ScalingDecisions', 'Count', 'a scaling decision, by decision', ['decision']),
  refusedEvents: metric('RefusedEvents', 'Count', 'an event or request refused, by reason', ['reason']),
} as const satisfies Record<string, DeliveryMetric>;

export type DeliveryMetricKey = keyof typeof DELIVERY_METRICS;
