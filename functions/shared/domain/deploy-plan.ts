/**
 * The deploy plan: what "Validate deploy request" resolves from the request and the
 * fleet file, carried in the execution's state so later steps need no fleet lookups.
 */
import type { DeploymentConfiguration } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import type { Fleet, FleetService } from '../../../lib/fleet/fleet';
import type { AuditAction } from './audit';

export const executionIdSchema = z.string().min(1);

/**
 * The service a workflow acts on, resolved from the fleet file: what the lock,
 * the outcome wait and the health gate need, for a deploy and a rollback alike.
 */
export const serviceTargetSchema = z.object({
  service: z.string(),
  cluster: z.string(),
  ecsServiceName: z.string(),
  container: z.string(),
  requestedBy: z.string(),
  reason: z.string(),
  rollbackAlarmNames: z.array(z.string()),
  healthCheck: z.object({
    http: z.object({ path: z.string(), port: z.number().int(), timeoutMs: z.number().int() }).optional(),
  }),
  rolling: z.object({
    maximumPercent: z.number().int(),
    minimumHealthyPercent: z.number().int(),
    healthCheckGracePeriodSeconds: z.number().int(),
  }),
  progressDeadlineSeconds: z.number().int().min(1),
  lockLeaseSeconds: z.number().int().min(1),
});
export type ServiceTarget = z.output<typeof serviceTargetSchema>;

export const deployPlanSchema = serviceTargetSchema.extend({
  image: z.string(),
  soakSeconds: z.number().int().min(0),
});
export type DeployPlan = z.output<typeof deployPlanSchema>;

/** The service's settings from the fleet file, as a workflow's plan carries them. */
export function serviceTarget(fleet: Fleet, service: FleetService, request: { readonly requestedBy: string; readonly reason: string }): ServiceTarget {
  const progressDeadlineSeconds = Math.round(fleet.deploy.progressDeadlineMinutes * 60);
  const soakSeconds = Math.round(fleet.deploy.soakMinutes * 60);
  return {
    service: service.id,
    cluster: fleet.cluster,
    ecsServiceName: service.ecsServiceName,
    container: service.container,
    requestedBy: request.requestedBy,
    reason: request.reason,
    rollbackAlarmNames: service.rollbackAlarms.map((a) => a.name),
    healthCheck: service.health.http ? { http: service.health.http } : {},
    rolling:
      service.strategy.type === 'rolling'
        ? {
            maximumPercent: service.strategy.maximumPercent,
            minimumHealthyPercent: service.strategy.minimumHealthyPercent,
            healthCheckGracePeriodSeconds: service.health.gracePeriodSeconds,
          }
        : { maximumPercent: 200, minimumHealthyPercent: 100, healthCheckGracePeriodSeconds: service.health.gracePeriodSeconds },
    progressDeadlineSeconds,
    // Covers a rollout and a rollback each up to the deadline, the soak, and the checks around them.
    lockLeaseSeconds: 2 * progressDeadlineSeconds + soakSeconds + 15 * 60,
  };
}

/** What "Check deploy guards" learned about the service before anything changed. */
export const serviceBaselineSchema = z.object({
  serviceArn: z.string(),
  /** The service's COMPLETED deployment before anything changed. */
  deploymentId: z.string(),
  /** The task definition of the service's last COMPLETED deployment: the rollback target. */
  previousTaskDefinitionArn: z.string(),
  desiredCount: z.number().int(),
});
export type ServiceBaseline = z.output<typeof serviceBaselineSchema>;

export const revisionSchema = z.object({
  taskDefinitionArn: z.string(),
  revision: z.number().int(),
  reused: z.boolean(),
});

export const rolloutSchema = z.object({
  deploymentId: z.string(),
  startedAt: z.string(),
});

export const deploymentOutcomeSchema = z.object({
  deploymentId: z.string(),
  status: z.enum(['COMPLETED', 'FAILED']),
  reason: z.string(),
  at: z.string(),
});
export type DeploymentOutcome = z.output<typeof deploymentOutcomeSchema>;

/** The Catch output Step Functions puts in the state: `{Error, Cause}`. */
export const failureSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/** A deploy step's audit action: on the plan's service, asked for by the plan's requester, via Step Functions. */
export function deployAuditAction(
  action: string,
  plan: Pick<ServiceTarget, 'service' | 'requestedBy'>,
  executionId: string,
  details: Pick<AuditAction, 'reason' | 'before'> & { readonly actor?: string } = {},
): AuditAction {
  return { action, subject: plan.service, actor: plan.requestedBy, source: 'step-functions', executionId, ...details };
}

/**
 * The rolling deployment settings every UpdateService of a deploy sends, rollout
 * and rollback alike: the circuit breaker with rollback, and the rollback alarms
 * as deployment alarms.
 */
export function rollingDeploymentConfiguration(plan: Pick<ServiceTarget, 'rolling' | 'rollbackAlarmNames'>): DeploymentConfiguration {
  const alarmNames = plan.rollbackAlarmNames;
  return {
    maximumPercent: plan.rolling.maximumPercent,
    minimumHealthyPercent: plan.rolling.minimumHealthyPercent,
    deploymentCircuitBreaker: { enable: true, rollback: true },
    alarms: { alarmNames: [...alarmNames], enable: alarmNames.length > 0, rollback: alarmNames.length > 0 },
  };
}
