/** First state of the resume workflow: there must be a halt in force, and the request must say who and why. */
import * as z from 'zod';
import { tradingServices } from '../../lib/fleet/fleet';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { InvalidResumeRequestError } from '../shared/runtime/errors';
import { defineHandler, describeIssues } from '../shared/runtime/handler';
import { readHaltFlag } from '../shared/domain/halt-flag';
import type { Resume } from '../shared/domain/resume-plan';

/** The documented input of the resume state machine. */
export const resumeRequestSchema = z.strictObject({
  requestedBy: z.string().min(1, 'is required').max(128),
  reason: z.string().min(1, 'is required').max(500),
  /** The halt to resume from; the one in force when absent. */
  haltId: z.string().min(1).optional(),
});

export const validateResumeRequest = defineHandler({
  name: 'validate-resume-request',
  description: 'Checks a resume request: a halt must be in force (and be the one named)',
  clients: ['ssm', 'dynamodb'],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ executionId, request }, deps) => {
    const parsed = resumeRequestSchema.safeParse(request);
    if (!parsed.success) throw new InvalidResumeRequestError(`Invalid resume request: ${describeIssues(parsed.error)}`);
    const flag = await readHaltFlag(deps);
    if (!flag.readable) throw new InvalidResumeRequestError(`The halt flag cannot be read (${flag.problem}): nothing can be resumed until it is repaired`);
    if (!flag.flag.halted || !flag.flag.haltId) throw new InvalidResumeRequestError('Trading is not halted: there is nothing to resume');
    if (parsed.data.haltId && parsed.data.haltId !== flag.flag.haltId) {
      throw new InvalidResumeRequestError(`haltId: ${parsed.data.haltId} is not the halt in force (${flag.flag.haltId})`);
    }
    const resume: Resume = {
      haltId: flag.flag.haltId,
      requestedBy: parsed.data.requestedBy,
      reason: parsed.data.reason,
      services: flag.flag.services ?? tradingServices(deps.fleet),
      approvalId: executionId.split(':').pop() ?? executionId,
      approvalTimeoutSeconds: Math.round(deps.fleet.approvals.resumeTimeoutMinutes * 60),
      approvers: deps.fleet.approvals.resumeApprovers ?? null,
    };
    await writeAuditRecord(deps, {
      action: 'resume',
      subject: 'fleet',
      actor: resume.requestedBy,
      source: 'step-functions',
      executionId,
      reason: resume.reason,
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      before: { haltId: resume.haltId },
    });
    return { request: parsed.data, resume, approval: null, readiness: null, restored: null, failure: null };
  },
});
