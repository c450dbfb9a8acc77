/** The resume's outcome record and page: resumed, not approved, refused, or failed. */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, failureSchema } from '../shared/domain/deploy-plan';
import { describeFailure } from '../shared/runtime/failure';
import { defineHandler } from '../shared/runtime/handler';
import { page } from '../shared/domain/paging';
import { approvalDecisionSchema, resumeSchema, resumeAuditAction } from '../shared/domain/resume-plan';

export const recordResumeOutcome = defineHandler({
  name: 'record-resume-outcome',
  description: "Writes the resume's outcome to the audit trail and pages on-call",
  clients: ['dynamodb', 'sns'],
  input: z.object({
    executionId: executionIdSchema,
    status: z.enum(['RESUMED', 'NOT_APPROVED', 'NOT_READY', 'FAILED']),
    resume: resumeSchema,
    approval: approvalDecisionSchema.nullable(),
    failure: failureSchema.nullable(),
  }),
  core: async ({ executionId, status, resume, approval, failure }, deps) => {
    const why = failure ? describeFailure(failure) : '';
    const message = {
      RESUMED: `Trading resumed after halt ${resume.haltId}; approved by ${approval?.approvedBy ?? '?'}, requested by ${resume.requestedBy}.`,
      NOT_APPROVED: `Resume after halt ${resume.haltId} was not approved (${failure?.Error === 'States.Timeout' ? 'no decision in time' : why}); trading stays halted.`,
      NOT_READY: `Resume after halt ${resume.haltId} refused: ${why}. Trading stays halted.`,
      FAILED: `Resume after halt ${resume.haltId} failed part-way: ${why}. The halt flag stays set; check the fleet.`,
    }[status];
    await writeAuditRecord(deps, {
      ...resumeAuditAction('resume', resume, executionId),
      phase: 'outcome',
      status: status === 'RESUMED' ? 'succeeded' : 'failed',
      at: new Date().toISOString(),
      after: { status, haltId: resume.haltId, approvedBy: approval?.approvedBy ?? null, message },
      ...(failure ? { error: { name: failure.Error, message: why.slice(0, 2000) } } : {}),
    });
    await page(
      deps,
      status === 'RESUMED' ? `Trading resumed (${resume.haltId})` : `Resume ${status.toLowerCase().replace('_', ' ')} (${resume.haltId})`,
      `${message}\nExecution ${executionId}`,
    );
    return { status, message };
  },
});
