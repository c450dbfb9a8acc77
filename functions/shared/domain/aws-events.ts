/** zod schemas for the AWS events Assure consumes (documented shapes; unknown fields pass through). */
import * as z from 'zod';

const eventEnvelope = z.object({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  'replay-name': z.string().optional(),
});

export const ecsDeploymentStateChangeSchema = eventEnvelope.extend({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Deployment State Change'),
  detail: z.looseObject({
    eventType: z.enum(['INFO', 'WARN', 'ERROR']),
    eventName: z.enum(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED']),
    deploymentId: z.string().regex(/^ecs-svc\/\d+$/, 'must look like ecs-svc/<digits>'),
    updatedAt: z.string(),
    reason: z.string().default(''),
  }),
});
export type EcsDeploymentStateChange = z.output<typeof ecsDeploymentStateChangeSchema>;

const alarmState = z.looseObject({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().default(''),
  reasonData: z.string().optional(),
  timestamp: z.string(),
});

export const cloudWatchAlarmStateChangeSchema = eventEnvelope.extend({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.looseObject({
    alarmName: z.string().min(1),
    state: alarmState,
    previousState: alarmState,
    configuration: z.looseObject({ description: z.string().optional() }).optional(),
    alarmTags: z.record(z.string(), z.string()).optional(),
  }),
});
export type CloudWatchAlarmStateChange = z.output<typeof cloudWatchAlarmStateChangeSchema>;

/** ECR's `ECR Image Action` event: one per tag pushed (the same digest under two tags gives two events). */
export const ecrImageActionSchema = eventEnvelope.extend({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  detail: z.looseObject({
    'action-type': z.string(),
    result: z.string(),
    'repository-name': z.string().min(1),
    'image-digest': z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 hex>'),
    'image-tag': z.string().optional(),
  }),
});
export type EcrImageAction = z.output<typeof ecrImageActionSchema>;

/**
 * How far ahead of this function's clock an event may be dated: EventBridge's
 * `time` comes from the emitting service's clock, which may run a little ahead
 * of Lambda's. Beyond this the event claims a future nobody has seen: forged.
 */
export const MAX_EVENT_CLOCK_SKEW_SECONDS = 60;

/** What every EventBridge-invoked handler checks of an event's envelope before trusting it. */
export interface EventEnvelopeFacts {
  readonly account: string;
  readonly region: string;
  readonly time: string;
  readonly 'replay-name'?: string | undefined;
}

export interface EventTrustExpectations {
  readonly account: string;
  readonly region: string;
  /** The fleet's `guardRails.maxEventAgeSeconds`. */
  readonly maxEventAgeSeconds: number;
}

/**
 * Why an event cannot be trusted (foreign account or region, replayed, older than
 * the fleet accepts, dated in the future beyond the clock skew, or undated), or
 * undefined when it can. Checks nothing about the resource: that is the handler's.
 */
export function untrustedEventReason(event: EventEnvelopeFacts, expected: EventTrustExpectations, now: number = Date.now()): string | undefined {
  if (event.account !== expected.account) return `event from foreign account ${event.account}`;
  if (event.region !== expected.region) return `event from foreign region ${event.region}`;
  if (event['replay-name']) return `replayed event (replay ${event['replay-name']})`;
  const ageSeconds = (now - Date.parse(event.time)) / 1000;
  if (ageSeconds < -MAX_EVENT_CLOCK_SKEW_SECONDS) {
    return `future-dated event: ${Math.round(-ageSeconds)} s ahead of the clock, more than the ${MAX_EVENT_CLOCK_SKEW_SECONDS} s skew allowed`;
  }
  // NaN (an unreadable time) fails this comparison too.
  if (!(ageSeconds <= expected.maxEventAgeSeconds)) {
    return `stale event: ${Math.round(ageSeconds)} s old, more than ${expected.maxEventAgeSeconds} s`;
  }
  return undefined;
}
