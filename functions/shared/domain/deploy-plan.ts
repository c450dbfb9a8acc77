/**
 * The deploy plan: what "Validate deploy request" resolves from the request and the
 * fleet file, carried in the execution's state so later steps need no fleet lookups.
 */
import * as z from 'zod';
import type { Fleet, FleetService } from '../../../lib/fleet/fleet';
import { deployStrategySchema, trafficShiftSchema } from '../../../lib/fleet/fleet-schema';
import type { AuditAction } from './audit';
import { bakeMinutes, judgedStages } from './deployment-strategy';

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
  /** The fleet file's strategy (plans from before strategies were carried roll). */
  strategy: deployStrategySchema.default({ type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 }),
  /** Blue/green, canary and linear: the target groups, listener rules and role ECS shifts traffic with. */
  trafficShift: trafficShiftSchema.nullable().default(null),
  /** The longest a deployment of this service without Assure's hook takes: the fleet's progress deadline plus the strategy's bake times. */
  progressDeadlineSeconds: z.number().int().min(1),
  lockLeaseSeconds: z.number().int().min(1),
});
export type ServiceTarget = z.output<typeof serviceTargetSchema>;

export const deployPlanSchema = serviceTargetSchema.extend({
  image: z.string(),
  soakSeconds: z.number().int().min(0),
  /** The release this deploy is part of (the release execution's name), or null when deployed alone. */
  releaseId: z.string().nullable().default(null),
  /** How long the deploy waits for ECS's outcome: progressDeadlineSeconds plus the time the hook may hold the deployment. */
  outcomeDeadlineSeconds: z.number().int().min(1),
});
export type DeployPlan = z.output<typeof deployPlanSchema>;

export interface DeployTimings {
  readonly progressDeadlineSeconds: number;
  readonly outcomeDeadlineSeconds: number;
  readonly soakSeconds: number;
  /** A deploy's lock: the rollout to its outcome, a rollback, the soak, and the checks around them. */
  readonly lockLeaseSeconds: number;
}

/**
 * How long a deploy of the service may take, computed here only. A rolling
 * deployment has the fleet's progress deadline. A progressive one adds ECS's
 * bake times and, for the outcome wait, the judge's inconclusive limit at every
 * stage it judges (after test traffic, each production step, after the full
 * shift) and the release approval's timeout when releases need one.
 */
export function deployTimings(fleet: Fleet, service: Pick<FleetService, 'strategy'>): DeployTimings {
  const minutes = (m: number): number => Math.round(m * 60);
  const progressDeadlineSeconds = minutes(fleet.deploy.progressDeadlineMinutes + bakeMinutes(service.strategy));
  const stages = judgedStages(service.strategy);
  const hookSeconds =
    stages === 0
      ? 0
      : minutes(stages * fleet.release.judge.inconclusiveLimitMinutes + (fleet.approvals.release.required ? fleet.approvals.release.timeoutMinutes : 0));
  const outcomeDeadlineSeconds = progressDeadlineSeconds + hookSeconds;
  const soakSeconds = minutes(fleet.deploy.soakMinutes);
  return {
    progressDeadlineSeconds,
    outcomeDeadlineSeconds,
    soakSeconds,
    lockLeaseSeconds: outcomeDeadlineSeconds + progressDeadlineSeconds + soakSeconds + 15 * 60,
  };
}

/** The service's settings from the fleet file, as a workflow's plan carries them. */
export function serviceTarget(fleet: Fleet, service: FleetService, request: { readonly requestedBy: string; readonly reason: string }): ServiceTarget {
  const { progressDeadlineSeconds, soakSeconds } = deployTimings(fleet, service);
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
    strategy: service.strategy,
    trafficShift: service.trafficShift ?? null,
    progressDeadlineSeconds,
    // Covers a rollout and a rollback each up to the deadline, the soak, and the checks around them.
    lockLeaseSeconds: 2 * progressDeadlineSeconds + soakSeconds + 15 * 60,
  };
}

/** A deploy's plan: the service target with the image, the release it belongs to, and the deploy's timings. */
export function deployPlan(
  fleet: Fleet,
  service: FleetService,
  request: { readonly image: string; readonly requestedBy: string; readonly reason: string; readonly releaseId?: string | undefined },
): DeployPlan {
  const { outcomeDeadlineSeconds, soakSeconds, lockLeaseSeconds } = deployTimings(fleet, service);
  return {
    ...serviceTarget(fleet, service, request),
    image: request.image,
    soakSeconds,
    releaseId: request.releaseId ?? null,
    outcomeDeadlineSeconds,
    lockLeaseSeconds,
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

/** The Catch output Step Functions puts in the state: `{Error, Cause}`. */
export const failureSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/** A deploy step's audit action: on the plan's service, asked for by the plan's requester, via Step Functions. */
export function deployAuditAction(
  action: string,
  plan: Pick<ServiceTarget, 'service' | 'requestedBy'> & { readonly releaseId?: string | null },
  executionId: string,
  details: Pick<AuditAction, 'reason' | 'before'> & { readonly actor?: string } = {},
): AuditAction {
  return {
    action,
    subject: plan.service,
    actor: plan.requestedBy,
    source: 'step-functions',
    executionId,
    ...(plan.releaseId ? { releaseId: plan.releaseId } : {}),
    ...details,
  };
}
