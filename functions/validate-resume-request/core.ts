/** First state of the resume workflow: there must be a halt in force, and the request must say who and why. */
import * as z from 'zod';
import { tradingServices } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { requestValidation } from '../shared/domain/request-validation';
import { type Resume, resumeAuditAction } from '../shared/domain/resume-plan';
import { defineHandler } from '../shared/runtime/handler';
import { executionName } from '../shared/domain/executions';
import { readHaltFlag } from '../shared/domain/halt-flag';

/** The documented input of the resume state machine. */
export const resumeRequestSchema = z.strictObject({
  // A principal ARN (role session or user) or, from older clients, a name.
  requestedBy: z.string().min(1, 'is required').max(256),
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
    const validation = requestValidation(deps, 'resume', { executionId, request });
    const parsed = await validation.parse(resumeRequestSchema);
    const flag = await readHaltFlag(deps);
    if (!flag.readable) return validation.refuse({ reason: `The halt flag cannot be read (${flag.problem}): nothing can be resumed until it is repaired` });
    if (!flag.flag.halted || !flag.flag.haltId) return validation.refuse({ reason: 'Trading is not halted: there is nothing to resume' });
    if (parsed.haltId && parsed.haltId !== flag.flag.haltId) {
      return validation.refuse({ field: 'haltId', reason: `${parsed.haltId} is not the halt in force (${flag.flag.haltId})` });
    }
    const resume: Resume = {
      haltId: flag.flag.haltId,
      requestedBy: parsed.requestedBy,
      reason: parsed.reason,
      services: flag.flag.services ?? tradingServices(deps.fleet),
      approvalId: executionName(executionId),
      approvalTimeoutSeconds: Math.round(deps.fleet.approvals.resumeTimeoutMinutes * 60),
      approvers: deps.fleet.approvals.resumeApprovers ?? null,
    };
    await writeAuditRecord(deps, {
      ...resumeAuditAction('resume', resume, executionId),
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      before: { haltId: resume.haltId },
    });
    return { request: parsed, resume, approval: null, readiness: null, restored: null, failure: null };
  },
});
