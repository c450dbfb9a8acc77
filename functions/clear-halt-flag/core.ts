/** The last step of a resume: the halt flag cleared, for the halt that was resumed only. */
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { ServiceStateError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { clearHaltFlag } from '../shared/domain/halt-flag';
import { approvalDecisionSchema, resumeSchema, resumeAuditAction } from '../shared/domain/resume-plan';

export const clearHaltFlagHandler = defineHandler({
  name: 'clear-halt-flag',
  description: 'Clears the halt flag for the resumed halt',
  clients: ['ssm', 'dynamodb'],
  input: z.object({ executionId: executionIdSchema, resume: resumeSchema, approval: approvalDecisionSchema }),
  core: async ({ executionId, resume, approval }, deps) =>
    audited(
      deps,
      resumeAuditAction('resume.clear-flag', resume, executionId, approval.approvedBy),
      async () => {
        const result = await clearHaltFlag(deps, resume.haltId, approval.approvedBy);
        if (!result.cleared) throw new ServiceStateError(`The flag no longer holds halt ${resume.haltId}: it was left as it is`);
        return { cleared: true, haltId: resume.haltId };
      },
      (result) => ({ ...result }),
    ),
});
