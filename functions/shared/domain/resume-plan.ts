/** The resume workflow's state: which halt to resume from, who asked, and the approval rules. */
import * as z from 'zod';

export const resumeSchema = z.object({
  haltId: z.string(),
  requestedBy: z.string(),
  reason: z.string(),
  services: z.array(z.string()),
  /** The id an approver names to decide (the execution's name). */
  approvalId: z.string(),
  approvalTimeoutSeconds: z.number().int().min(1),
  approvers: z.array(z.string()).nullable(),
});
export type Resume = z.output<typeof resumeSchema>;

export const approvalKey = (approvalId: string): string => `approval#${approvalId}`;

export const approvalDecisionSchema = z.object({
  approvedBy: z.string(),
  decidedAt: z.string(),
  comment: z.string().nullable(),
});
