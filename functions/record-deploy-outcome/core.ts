/**
 * The deploy's outcome record (the intent was written when the request was
 * validated): what ran before, what runs now, and why it ended as it did.
 */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { deployPlanSchema, executionIdSchema, failureSchema, revisionSchema, rolloutSchema, serviceBaselineSchema } from '../shared/domain/deploy-plan';
import { describeFailure, failureMessage } from '../shared/runtime/failure';
import { defineHandler } from '../shared/runtime/handler';

export const deployOutcomeStatus = z.enum(['SUCCEEDED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'REFUSED']);
export type DeployOutcomeStatus = z.output<typeof deployOutcomeStatus>;

const revisionName = (arn: string | undefined): string => arn?.split('/').pop() ?? 'unknown';

function describeOutcome(
  status: DeployOutcomeStatus,
  service: string,
  image: string,
  failure: { Error: string; Cause?: string | undefined } | null,
  rollbackFailure: { Error: string; Cause?: string | undefined } | null,
  runningArn: string | undefined,
): string {
  const why = failure ? describeFailure(failure) : '';
  switch (status) {
    case 'SUCCEEDED':
      return `${service} now runs ${image} (${revisionName(runningArn)})`;
    case 'ROLLED_BACK':
      return `${service}: deploy of ${image} failed and was rolled back to ${revisionName(runningArn)}. ${why}`;
    case 'ROLLBACK_FAILED':
      return `${service}: deploy of ${image} failed and the rollback did not verify; a human must act. ${why} Rollback: ${rollbackFailure ? describeFailure(rollbackFailure) : 'unknown'}`;
    case 'REFUSED':
      return `${service}: deploy of ${image} refused. ${why}`;
  }
}

export const recordDeployOutcome = defineHandler({
  name: 'record-deploy-outcome',
  description: "Writes the deploy's outcome to the audit trail",
  clients: ['dynamodb'],
  input: z.object({
    executionId: executionIdSchema,
    status: deployOutcomeStatus,
    plan: deployPlanSchema,
    baseline: serviceBaselineSchema.nullable(),
    revision: revisionSchema.nullable(),
    rollout: rolloutSchema.nullable(),
    failure: failureSchema.nullable(),
    rollback: z.object({ action: z.string(), taskDefinitionArn: z.string(), deploymentId: z.string().nullable() }).nullable(),
    rollbackFailure: failureSchema.nullable(),
  }),
  core: async ({ executionId, status, plan, baseline, revision, rollout, failure, rollback, rollbackFailure }, deps) => {
    const runningNow = status === 'SUCCEEDED' ? revision?.taskDefinitionArn : status === 'ROLLED_BACK' ? rollback?.taskDefinitionArn : undefined;
    // The keys the state machine selects are always present (null when unknown).
    const summary = {
      service: plan.service,
      image: plan.image,
      status,
      previousTaskDefinitionArn: baseline?.previousTaskDefinitionArn,
      newTaskDefinitionArn: revision?.taskDefinitionArn,
      runningTaskDefinitionArn: runningNow ?? null,
      deploymentId: rollout?.deploymentId,
      rollbackAction: rollback?.action,
      failure: failure ? { error: failure.Error, message: failureMessage(failure).slice(0, 2000) } : undefined,
      rollbackFailure: rollbackFailure ? { error: rollbackFailure.Error, message: failureMessage(rollbackFailure).slice(0, 2000) } : undefined,
      message: describeOutcome(status, plan.service, plan.image, failure, rollbackFailure, runningNow ?? baseline?.previousTaskDefinitionArn),
    };
    await writeAuditRecord(deps, {
      action: 'deploy',
      subject: plan.service,
      actor: plan.requestedBy,
      source: 'step-functions',
      executionId,
      reason: plan.reason,
      phase: 'outcome',
      status: status === 'SUCCEEDED' ? 'succeeded' : 'failed',
      at: new Date().toISOString(),
      before: baseline ? { taskDefinitionArn: baseline.previousTaskDefinitionArn } : {},
      after: JSON.parse(JSON.stringify(summary)) as Record<string, unknown>,
      ...(failure ? { error: { name: failure.Error, message: failureMessage(failure).slice(0, 2000) } } : {}),
    });
    return summary;
  },
});
