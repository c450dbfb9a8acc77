/**
 * An approver's decision, as it reaches the decision functions through their
 * function URL (AWS_IAM auth): who decides is the principal IAM authenticated
 * (`requestContext.authorizer.iam.userArn`), never a field of the body. The body
 * says which approval and what: `{ approvalId, decision, comment? }`. The same
 * request decides a resume and a release held before production traffic.
 */
import * as z from 'zod';
import { functionUrlRequestSchema } from '../runtime/function-url';
import { ApprovalRefusedError } from '../runtime/errors';
import { type AuditAction, writeAuditRecord } from './audit';

export const approvalDecisionBodySchema = z.strictObject({
  approvalId: z.string().min(1, 'is required'),
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(500).optional(),
});
export type ApprovalDecisionBody = z.output<typeof approvalDecisionBodySchema>;

/** The request through the function URL; the approver is the caller IAM authenticated. */
export const approvalDecisionRequestSchema = functionUrlRequestSchema(approvalDecisionBodySchema).transform(({ caller, ...body }) => ({
  ...body,
  approver: caller,
}));
export type ApprovalDecisionRequest = z.output<typeof approvalDecisionRequestSchema>;

/** The function URL request an approver's signed POST becomes (what a test or the sandbox builds). */
export function approvalDecisionEvent(callerArn: string, body: ApprovalDecisionBody, account: string): Record<string, unknown> {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: account,
      authorizer: {
        iam: {
          accessKey: 'ASIASANDBOX',
          accountId: account,
          callerId: callerArn.split('/').slice(1).join(':'),
          userArn: callerArn,
          userId: callerArn.split('/').pop(),
        },
      },
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'assure' },
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** Refuses a decision: records why (an outcome, failed, with no intent: nothing was attempted), then throws ApprovalRefusedError. */
export async function refuseDecision(
  deps: Parameters<typeof writeAuditRecord>[0],
  action: Pick<AuditAction, 'action' | 'subject' | 'actor' | 'executionId'>,
  why: string,
): Promise<never> {
  await writeAuditRecord(deps, {
    ...action,
    source: 'cli',
    reason: why,
    phase: 'outcome',
    status: 'failed',
    at: new Date().toISOString(),
    error: { name: 'ApprovalRefusedError', message: why },
  });
  throw new ApprovalRefusedError(why);
}
