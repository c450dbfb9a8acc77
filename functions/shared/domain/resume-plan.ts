/** The resume workflow's state: which halt to resume from, who asked, and the approval rules. */
import * as z from 'zod';
import type { AuditAction } from './audit';

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

/** What a resume step records: about the whole fleet, by the requester (or, once approved, the approver). */
export const resumeAuditAction = (
  action: string,
  resume: Pick<Resume, 'requestedBy' | 'reason'>,
  executionId: string,
  actor = resume.requestedBy,
): AuditAction => ({
  action,
  subject: 'fleet',
  actor,
  source: 'step-functions',
  executionId,
  reason: resume.reason,
});

export const approvalKey = (approvalId: string): string => `approval#${approvalId}`;

export const approvalDecisionSchema = z.object({
  approvedBy: z.string(),
  decidedAt: z.string(),
  comment: z.string().nullable(),
});
