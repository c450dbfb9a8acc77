/**
 * Assure's ECS lifecycle hook (invoked by ECS, not by Step Functions) for blue/green,
 * canary and linear deployments. It answers ECS's hook contract: SUCCEEDED, FAILED
 * (ECS shifts traffic back and rolls back) or IN_PROGRESS with a callBackDelay and
 * the hookDetails ECS hands back on the next invocation. A business verdict is never
 * an error; an unexpected failure throws, and ECS rolls back: it fails closed.
 *
 * - POST_TEST_TRAFFIC_SHIFT: the deep health gate on the new revision's tasks only.
 * - PRE_PRODUCTION_TRAFFIC_SHIFT: the release approval, when the fleet requires one.
 * - PRODUCTION_TRAFFIC_SHIFT (every canary/linear step) and POST_PRODUCTION_TRAFFIC_SHIFT:
 *   the canary judge on the two target groups' metrics since the step began.
 * - A rollback's invocations, and every other stage: SUCCEEDED at once.
 * Every verdict is written to the audit trail with its numbers.
 */
import { DescribeServiceDeploymentsCommand, DescribeServiceRevisionsCommand, type ServiceDeployment } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import type { Fleet, FleetService } from '../../lib/fleet/fleet';
import { serviceByEcsName } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { judgeCanary } from '../shared/domain/canary-judge';
import { collectCanarySamples, findTrafficTargets } from '../shared/domain/canary-metrics';
import { page } from '../shared/domain/paging';
import { approvalState, ensureReleaseApproval, releaseApprovalId } from '../shared/domain/release-approval';
import { assessRevisionHealth } from '../shared/domain/revision-health';
import { ServiceStateError } from '../shared/runtime/errors';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';

/** The stages Assure registers its hook for (the deploy step configures exactly these). */
export const JUDGED_STAGES = ['POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'] as const;
export type JudgedStage = (typeof JUDGED_STAGES)[number];

/** How many verdicts of a step the hookDetails keep. */
const HISTORY_LENGTH = 10;

/** What the hook keeps between invocations of one step, in hookDetails.judge. */
const stepStateSchema = z.object({
  /** `<stage>@<production weight of the new revision>`: a new canary/linear step starts a new step. */
  step: z.string(),
  stepStartedAt: z.string(),
  firstInvokedAt: z.string(),
  invocations: z.number().int().nonnegative(),
  history: z.array(z.object({ at: z.string(), verdict: z.string() })).default([]),
});
type StepState = z.output<typeof stepStateSchema>;

/** The hook's configured details (set by the deploy step), plus the step state it returns with IN_PROGRESS. */
export const hookDetailsSchema = z.looseObject({
  service: z.string().optional(),
  deployExecutionId: z.string().optional(),
  requestedBy: z.string().optional(),
  releaseId: z.string().optional(),
  judge: stepStateSchema.optional(),
});

/** ECS's lifecycle hook payload. */
export const deploymentHookPayloadSchema = z.object({
  executionDetails: z.object({
    serviceArn: z.string().min(1),
    targetServiceRevisionArn: z.string().min(1),
    testTrafficWeights: z.record(z.string(), z.number()).nullish(),
    productionTrafficWeights: z.record(z.string(), z.number()).nullish(),
  }),
  executionId: z.string().min(1),
  lifecycleStage: z.string().min(1),
  resourceArn: z.string().min(1),
  hookDetails: hookDetailsSchema.nullish(),
});
export type DeploymentHookPayload = z.output<typeof deploymentHookPayloadSchema>;

export type HookResponse =
  | { readonly hookStatus: 'SUCCEEDED' }
  | { readonly hookStatus: 'FAILED' }
  | { readonly hookStatus: 'IN_PROGRESS'; readonly callBackDelay: number; readonly hookDetails: Readonly<Record<string, unknown>> };

type HookDeps = HandlerDeps<'dynamodb' | 'ecs' | 'elbv2' | 'cloudwatch' | 'sns'>;

/** A stage's answer before the step bookkeeping: PENDING becomes IN_PROGRESS (or FAILED past its limit). */
interface StageOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'PENDING';
  readonly reason: string;
  readonly numbers?: Readonly<Record<string, unknown>>;
  /** Whether the fleet's inconclusiveLimitMinutes bounds this PENDING (the approval has its own deadline). */
  readonly limited?: boolean;
}

interface HookContext {
  readonly payload: DeploymentHookPayload;
  readonly details: z.output<typeof hookDetailsSchema>;
  readonly service: FleetService;
  readonly deployment: ServiceDeployment;
  readonly stepStartedAt: Date;
  readonly now: Date;
}

function resolveService(fleet: Fleet, serviceId: string | undefined, serviceArn: string): FleetService {
  const byId = serviceId === undefined ? undefined : fleet.services[serviceId];
  const service = byId ?? serviceByEcsName(fleet, serviceArn.split('/').pop() ?? '');
  if (!service) throw new ServiceStateError(`The deployment hook was invoked for ${serviceArn}, which is not a service of the fleet`);
  return service;
}

const isJudged = (stage: string): stage is JudgedStage => (JUDGED_STAGES as readonly string[]).includes(stage);

/** A rollback re-invokes the hooks with the revision rolled back to: ECS's deployment says so. */
function rollbackReason(deployment: ServiceDeployment, targetServiceRevisionArn: string): string | undefined {
  if (deployment.status?.startsWith('ROLLBACK')) return `the deployment is ${deployment.status}`;
  if (deployment.rollback) return `the deployment is rolling back${deployment.rollback.reason ? ` (${deployment.rollback.reason})` : ''}`;
  const target = deployment.targetServiceRevision?.arn;
  if (target && target !== targetServiceRevisionArn) return `the hook's revision is not the deployment's target (${target})`;
  return undefined;
}

async function postTestTrafficShift(deps: HookDeps, context: HookContext): Promise<StageOutcome> {
  const { payload, service, deployment } = context;
  const revisions = await deps.clients.ecs.send(
    new DescribeServiceRevisionsCommand({ serviceRevisionArns: [payload.executionDetails.targetServiceRevisionArn] }),
  );
  const taskDefinitionArn = revisions.serviceRevisions?.[0]?.taskDefinition;
  if (!taskDefinitionArn) throw new ServiceStateError(`Service revision ${payload.executionDetails.targetServiceRevisionArn} has no task definition`);
  const health = await assessRevisionHealth(deps, {
    cluster: deps.fleet.cluster,
    ecsServiceName: service.ecsServiceName,
    taskDefinitionArn,
    expectedTasks: Math.max(1, deployment.targetServiceRevision?.requestedTaskCount ?? 1),
    http: service.health.http,
  });
  const numbers = { health: { ...health } };
  if (health.status === 'HEALTHY') return { status: 'SUCCEEDED', reason: `new revision healthy on test traffic: ${health.evidence}`, numbers };
  if (health.status === 'UNHEALTHY') return { status: 'FAILED', reason: `new revision unhealthy on test traffic: ${health.evidence}`, numbers };
  return { status: 'PENDING', reason: `waiting for the new revision's tasks: ${health.evidence}`, numbers, limited: true };
}

async function preProductionTrafficShift(deps: HookDeps, context: HookContext): Promise<StageOutcome> {
  const policy = deps.fleet.approvals.release;
  if (!policy.required) return { status: 'SUCCEEDED', reason: 'the fleet requires no release approval' };
  const { details, service, now } = context;
  const deployExecutionId = details.deployExecutionId ?? context.payload.executionId;
  const approvalId = releaseApprovalId({ releaseId: details.releaseId, deployExecutionId });
  const requestedBy = details.requestedBy ?? 'unknown';
  const { approval, created } = await ensureReleaseApproval(deps, {
    approvalId,
    requestedBy,
    approvers: policy.approvers ?? [],
    services: [service.id],
    deployExecutionId,
    ...(details.releaseId === undefined ? {} : { releaseId: details.releaseId }),
    timeoutMinutes: policy.timeoutMinutes,
    now,
  });
  if (created) {
    const what = details.releaseId ? `release ${details.releaseId}` : `the deploy of ${service.id}`;
    await page(
      deps,
      `Approve ${what} before production traffic?`,
      [
        `${requestedBy} is releasing ${service.id}; the new revision passed its checks on test traffic and waits for approval before any production traffic.`,
        `Approvers: ${approval.approvers.length > 0 ? approval.approvers.join(', ') : `anyone but ${requestedBy}`}. Without a decision by ${approval.deadline} it is rolled back.`,
        `Approve: assure approve ${approvalId}    Reject: assure approve ${approvalId} --reject`,
      ].join('\n'),
    );
    await writeAuditRecord(deps, {
      action: 'release.approval.requested',
      subject: details.releaseId ? `release/${details.releaseId}` : service.id,
      actor: requestedBy,
      source: 'ecs',
      executionId: deployExecutionId,
      reason: `approval ${approvalId} requested before production traffic`,
      phase: 'outcome',
      status: 'succeeded',
      at: now.toISOString(),
      after: { approvalId, approvers: approval.approvers, deadline: approval.deadline },
    });
  }
  const state = approvalState(approval, now);
  const numbers = { approvalId, approval: state, deadline: approval.deadline, ...(approval.decidedBy ? { decidedBy: approval.decidedBy } : {}) };
  switch (state) {
    case 'approved':
      return { status: 'SUCCEEDED', reason: `approval ${approvalId} approved by ${approval.decidedBy ?? 'an approver'}`, numbers };
    case 'rejected':
      return {
        status: 'FAILED',
        reason: `approval ${approvalId} rejected by ${approval.decidedBy ?? 'an approver'}${approval.comment ? `: ${approval.comment}` : ''}`,
        numbers,
      };
    case 'expired':
      return { status: 'FAILED', reason: `approval ${approvalId} was not given by its deadline ${approval.deadline}`, numbers };
    case 'pending':
      return { status: 'PENDING', reason: `waiting for approval ${approvalId} (deadline ${approval.deadline})`, numbers, limited: false };
  }
}

async function productionTrafficShift(deps: HookDeps, context: HookContext): Promise<StageOutcome> {
  const { service, stepStartedAt, now } = context;
  if (!service.trafficShift) throw new ServiceStateError(`${service.id} has no trafficShift in the fleet file: the canary judge cannot find its target groups`);
  const settings = deps.fleet.release.judge;
  const targets = await findTrafficTargets(deps, service.trafficShift);
  // The latest minSamples whole periods (plus the one in progress), never before the step began: a
  // regression that starts late in the step is judged on its own minutes, not diluted by the early ones.
  const recent = now.getTime() - (settings.minSamples + 1) * settings.periodSeconds * 1000;
  const windowStart = new Date(Math.max(stepStartedAt.getTime(), recent));
  const samples = await collectCanarySamples(deps, service, targets, settings, windowStart, now);
  const judgement = judgeCanary({ metrics: samples.metrics, settings, notes: samples.notes });
  const observedMinutes = (now.getTime() - stepStartedAt.getTime()) / 60_000;
  const numbers = {
    verdict: judgement.verdict,
    metrics: judgement.metrics,
    window: samples.window,
    requests: samples.requests,
    errors: samples.errors,
    targetGroups: { new: targets.newTargetGroupArn, old: targets.oldTargetGroupArn },
    productionWeights: { new: targets.newProductionWeight, old: targets.oldProductionWeight },
  };
  if (judgement.verdict === 'PASS' && observedMinutes < settings.observeMinutes) {
    const reason = `PASS so far; watching the step for ${settings.observeMinutes} minute(s) before it may pass: ${judgement.reason}`;
    return { status: 'PENDING', reason, numbers: { ...numbers, observedMinutes }, limited: true };
  }
  const status = judgement.verdict === 'PASS' ? 'SUCCEEDED' : judgement.verdict === 'FAIL' ? 'FAILED' : 'PENDING';
  return { status, reason: judgement.reason, numbers, limited: true };
}

const STAGES: Readonly<Record<JudgedStage, (deps: HookDeps, context: HookContext) => Promise<StageOutcome>>> = {
  POST_TEST_TRAFFIC_SHIFT: postTestTrafficShift,
  PRE_PRODUCTION_TRAFFIC_SHIFT: preProductionTrafficShift,
  PRODUCTION_TRAFFIC_SHIFT: productionTrafficShift,
  POST_PRODUCTION_TRAFFIC_SHIFT: productionTrafficShift,
};

function stepKey(payload: DeploymentHookPayload, deployment: ServiceDeployment): string {
  const target = payload.executionDetails.targetServiceRevisionArn;
  const weight = payload.executionDetails.productionTrafficWeights?.[target] ?? deployment.targetServiceRevision?.requestedProductionTrafficWeight;
  return `${payload.lifecycleStage}@${weight ?? '?'}`;
}

interface Decision {
  readonly response: HookResponse;
  readonly reason: string;
  readonly numbers?: Readonly<Record<string, unknown>>;
  readonly step?: StepState;
}

async function decide(deps: HookDeps, payload: DeploymentHookPayload, service: FleetService, now: Date): Promise<Decision> {
  const stage = payload.lifecycleStage;
  if (!isJudged(stage)) return { response: { hookStatus: 'SUCCEEDED' }, reason: `Assure does not judge ${stage}` };
  const described = await deps.clients.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [payload.resourceArn] }));
  const deployment = described.serviceDeployments?.[0];
  if (!deployment) throw new ServiceStateError(`ECS does not know the service deployment ${payload.resourceArn}`);
  const rollback = rollbackReason(deployment, payload.executionDetails.targetServiceRevisionArn);
  if (rollback) return { response: { hookStatus: 'SUCCEEDED' }, reason: `rollback invocation: ${rollback}` };

  const details = payload.hookDetails ?? {};
  const key = stepKey(payload, deployment);
  const previous = details.judge?.step === key ? details.judge : undefined;
  const step: StepState = previous ?? { step: key, stepStartedAt: now.toISOString(), firstInvokedAt: now.toISOString(), invocations: 0, history: [] };
  const context: HookContext = { payload, details, service, deployment, stepStartedAt: new Date(step.stepStartedAt), now };
  const outcome = await STAGES[stage](deps, context);

  const elapsedMinutes = (now.getTime() - Date.parse(step.stepStartedAt)) / 60_000;
  const limit = deps.fleet.release.judge.inconclusiveLimitMinutes;
  const expired = outcome.status === 'PENDING' && outcome.limited !== false && elapsedMinutes >= limit;
  const verdict = expired ? 'FAILED' : outcome.status === 'PENDING' ? 'IN_PROGRESS' : outcome.status;
  const next: StepState = {
    ...step,
    invocations: step.invocations + 1,
    history: [...step.history, { at: now.toISOString(), verdict }].slice(-HISTORY_LENGTH),
  };
  const reason = expired ? `no verdict after ${Math.floor(elapsedMinutes)} minute(s) (limit ${limit}): ${outcome.reason}` : outcome.reason;
  const response: HookResponse =
    verdict === 'IN_PROGRESS'
      ? { hookStatus: 'IN_PROGRESS', callBackDelay: deps.fleet.release.judge.callBackDelaySeconds, hookDetails: { ...details, judge: next } }
      : { hookStatus: verdict };
  return { response, reason, step: next, ...(outcome.numbers ? { numbers: outcome.numbers } : {}) };
}

const AUDIT_STATUS = { SUCCEEDED: 'succeeded', FAILED: 'failed', IN_PROGRESS: 'started' } as const;

export const judgeDeploymentHook = defineHandler({
  name: 'judge-deployment-hook',
  description: "ECS lifecycle hook: health on test traffic, release approval, canary judge; answers ECS's hookStatus",
  clients: ['dynamodb', 'ecs', 'elbv2', 'cloudwatch', 'sns'],
  timeoutSeconds: 60,
  input: deploymentHookPayloadSchema,
  core: async (payload, deps): Promise<HookResponse> => {
    const now = new Date();
    const details = payload.hookDetails ?? {};
    const service = resolveService(deps.fleet, details.service, payload.executionDetails.serviceArn);
    const audit = {
      action: `deploy.hook.${payload.lifecycleStage.toLowerCase()}`,
      subject: service.id,
      actor: 'assure',
      source: 'ecs',
      executionId: details.deployExecutionId ?? payload.executionId,
    };
    const invocation = {
      lifecycleStage: payload.lifecycleStage,
      serviceDeploymentArn: payload.resourceArn,
      targetServiceRevisionArn: payload.executionDetails.targetServiceRevisionArn,
      productionTrafficWeights: payload.executionDetails.productionTrafficWeights ?? {},
      testTrafficWeights: payload.executionDetails.testTrafficWeights ?? {},
    };
    let decision: Decision;
    try {
      decision = await decide(deps, payload, service, now);
    } catch (error) {
      const e = error as Error;
      await writeAuditRecord(deps, {
        ...audit,
        reason: `the hook failed, so ECS rolls back: ${e.message}`,
        phase: 'outcome',
        status: 'failed',
        at: new Date().toISOString(),
        after: invocation,
        error: { name: e.name, message: e.message },
      });
      throw error;
    }
    deps.logger.info('Deployment hook verdict', {
      service: service.id,
      stage: payload.lifecycleStage,
      hookStatus: decision.response.hookStatus,
      reason: decision.reason,
    });
    await writeAuditRecord(deps, {
      ...audit,
      reason: decision.reason,
      phase: 'outcome',
      status: AUDIT_STATUS[decision.response.hookStatus],
      at: new Date().toISOString(),
      after: {
        hookStatus: decision.response.hookStatus,
        ...invocation,
        ...(decision.step ? { stepStartedAt: decision.step.stepStartedAt, invocations: decision.step.invocations } : {}),
        ...(decision.numbers ?? {}),
      },
    });
    return decision.response;
  },
});
