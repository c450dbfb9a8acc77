/**
 * The deploy's outcome record (the intent was written when the request was
 * validated): what ran before, what runs now, and why it ended as it did.
 */
import { z } from 'zod';
import { writeAuditRecord } from '../shared/audit';
import { deployPlanSchema, executionIdSchema, failureSchema, revisionSchema, rolloutSchema, serviceBaselineSchema } from '../shared/deploy-plan';
import { defineHandler } from '../shared/handler';

export const deployOutcomeStatus = z.enum(['SUCCEEDED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'REFUSED']);
export type DeployOutcomeStatus = z.output<typeof deployOutcomeStatus>;

const revisionName = (arn: string | undefined): string => arn?.split('/').pop() ?? 'unknown';

/**
 * A failure's cause in words. Step Functions puts a Lambda error's whole payload
 * (errorType, errorMessage, trace) in Cause as JSON; people need the message.
 */
export function failureMessage(failure: { Error: string; Cause?: string | undefined }): string {
  const cause = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return `${failure.Error}: ${parsed.errorMessage}`;
  } catch {
    // Not JSON: a plain cause (ECS reason, States.Timeout, SendTaskFailure cause).
  }
  return cause ? `${failure.Error}: ${cause}` : failure.Error;
}

function describeOutcome(
  status: DeployOutcomeStatus,
  service: string,
  image: string,
  failure: { Error: string; Cause?: string | undefined } | null,
  rollbackFailure: { Error: string; Cause?: string | undefined } | null,
  runningArn: string | undefined,
): string {
  const why = failure ? failureMessage(failure) : '';
  switch (status) {
    case 'SUCCEEDED':
      return `${service} now runs ${image} (${revisionName(runningArn)})`;
    case 'ROLLED_BACK':
      return `${service}: deploy of ${image} failed and was rolled back to ${revisionName(runningArn)}. ${why}`;
    case 'ROLLBACK_FAILED':
      return `${service}: deploy of ${image} failed and the rollback did not verify; a human must act. ${why} Rollback: ${rollbackFailure ? failureMessage(rollbackFailure) : 'unknown'}`;
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
    const runningNow =
      status === 'SUCCEEDED' ? revision?.taskDefinitionArn : status === 'ROLLED_BACK' ? rollback?.taskDefinitionArn : undefined;
    const summary = {
      service: plan.service,
      image: plan.image,
      status,
      previousTaskDefinitionArn: baseline?.previousTaskDefinitionArn,
      newTaskDefinitionArn: revision?.taskDefinitionArn,
      runningTaskDefinitionArn: runningNow,
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
