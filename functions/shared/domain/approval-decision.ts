/**
 * An approver's decision, as `assure approve <id> [--reject] [--comment ...]`
 * sends it: the same request for a resume and for a release held before
 * production traffic.
 */
import * as z from 'zod';

export const approvalDecisionRequestSchema = z.strictObject({
  approvalId: z.string().min(1, 'is required'),
  approver: z.string().min(1, 'is required').max(128),
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(500).optional(),
});
export type ApprovalDecisionRequest = z.output<typeof approvalDecisionRequestSchema>;
