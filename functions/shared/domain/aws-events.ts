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
