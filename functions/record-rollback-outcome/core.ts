/** The rollback's outcome record, and a page: on-call hears of every rollback, however it ended. */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, failureSchema } from '../shared/domain/deploy-plan';
import { describeFailure } from '../shared/runtime/failure';
import { defineHandler } from '../shared/runtime/handler';
import { page } from '../shared/domain/paging';
import { rollbackPlanSchema, rollbackResultSchema } from '../shared/domain/rollback-plan';

export const recordRollbackOutcome = defineHandler({
  name: 'record-rollback-outcome',
  description: "Writes the rollback's outcome to the audit trail and pages on-call",
  clients: ['dynamodb', 'sns'],
  input: z.object({
    executionId: executionIdSchema,
    status: z.enum(['SUCCEEDED', 'REFUSED', 'FAILED']),
    plan: rollbackPlanSchema,
    rollback: rollbackResultSchema.nullable(),
    stopped: z.object({ executionArn: z.string().nullable() }).nullable(),
    failure: failureSchema.nullable(),
  }),
  core: async ({ executionId, status, plan, rollback, stopped, failure }, deps) => {
    const revision = rollback?.taskDefinitionArn.split('/').pop();
    const message =
      status === 'SUCCEEDED'
        ? `${plan.service} rolled back to ${revision ?? 'its previous revision'} and verified healthy (${plan.reason})`
        : status === 'REFUSED'
          ? `${plan.service}: rollback refused. ${failure ? describeFailure(failure) : ''}`
          : `${plan.service}: rollback did not complete; a human must act. ${failure ? describeFailure(failure) : ''}`;
    await writeAuditRecord(deps, {
      action: 'rollback',
      subject: plan.service,
      actor: plan.requestedBy,
      source: plan.source,
      executionId,
      reason: plan.reason,
      phase: 'outcome',
      status: status === 'SUCCEEDED' ? 'succeeded' : 'failed',
      at: new Date().toISOString(),
      after: JSON.parse(
        JSON.stringify({ status, action: rollback?.action, taskDefinitionArn: rollback?.taskDefinitionArn, stoppedDeploy: stopped?.executionArn, message }),
      ) as Record<string, unknown>,
      ...(failure ? { error: { name: failure.Error, message: describeFailure(failure).slice(0, 2000) } } : {}),
    });
    await page(
      deps,
      `${plan.service} rollback ${status === 'SUCCEEDED' ? 'done' : status.toLowerCase()}`,
      `${message}\n\nRequested by ${plan.requestedBy} via ${plan.source}.\nExecution ${executionId}`,
    );
    return { service: plan.service, status, message };
  },
});
