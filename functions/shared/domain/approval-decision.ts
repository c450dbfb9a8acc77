/**
 * An approver's decision, as it reaches the decision functions through their
 * function URL (AWS_IAM auth): who decides is the principal IAM authenticated
 * (`requestContext.authorizer.iam.userArn`), never a field of the body. The body
 * says which approval and what: `{ approvalId, decision, comment? }`. The same
 * request decides a resume and a release held before production traffic.
 */
import * as z from 'zod';
import { principalArnSchema } from './principals';

export const approvalDecisionBodySchema = z.strictObject({
  approvalId: z.string().min(1, 'is required'),
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(500).optional(),
});
export type ApprovalDecisionBody = z.output<typeof approvalDecisionBodySchema>;

/** The body as JSON (base64 when Lambda says so), then checked. */
const jsonBody = z
  .string({ error: 'is required: a JSON object { approvalId, decision, comment? }' })
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(approvalDecisionBodySchema);

/** The parts of the function URL request payload (version 2.0) a decision needs. */
export const approvalDecisionRequestSchema = z
  .object({
    requestContext: z.object({
      accountId: z.string(),
      authorizer: z.object(
        { iam: z.object({ userArn: principalArnSchema, accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id') }) },
        { error: 'is required: decisions come through the function URL with AWS_IAM auth, which names the caller' },
      ),
    }),
    body: z.string().optional(),
    isBase64Encoded: z.boolean().default(false),
  })
  .transform((event, ctx) => {
    const text = event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const body = jsonBody.safeParse(text);
    if (!body.success) {
      for (const issue of body.error.issues) ctx.addIssue({ ...issue, path: ['body', ...issue.path] } as z.core.$ZodRawIssue);
      return z.NEVER;
    }
    return { ...body.data, approver: event.requestContext.authorizer.iam.userArn };
  });
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
