/**
 * Function URL responses. A function URL turns a thrown error into a bare 502, so
 * a decision function answers a refusal itself, as HTTP: 403 with the reason
 * (the request was understood and is not allowed). Any other error still throws.
 */
import * as z from 'zod';
import { principalArnSchema } from '../domain/principals';
import { ApprovalRefusedError } from './errors';

export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const json = (statusCode: number, body: unknown): FunctionUrlResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export async function functionUrlResponse(work: () => Promise<unknown>): Promise<FunctionUrlResponse> {
  try {
    return json(200, await work());
  } catch (error) {
    if (error instanceof ApprovalRefusedError) return json(403, { error: error.name, message: error.message });
    throw error;
  }
}

/**
 * A function URL request (payload 2.0, AWS_IAM auth) as a handler's input: the
 * JSON body checked against `body`, and `caller`, the principal IAM
 * authenticated. A request that did not come through the URL has no caller and
 * is refused.
 */
export function functionUrlRequestSchema<Body extends z.ZodObject>(body: Body) {
  const json = z
    .string({ error: 'is required: a JSON object' })
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(body);
  return z
    .object({
      requestContext: z.object({
        authorizer: z.object(
          { iam: z.object({ userArn: principalArnSchema }) },
          { error: 'is required: requests come through the function URL with AWS_IAM auth, which names the caller' },
        ),
      }),
      body: z.string().optional(),
      isBase64Encoded: z.boolean().default(false),
    })
    .transform((event, ctx) => {
      const text = event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      const parsed = json.safeParse(text);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['body', ...issue.path] } as z.core.$ZodRawIssue);
        return z.NEVER;
      }
      return { ...(parsed.data as z.output<Body>), caller: event.requestContext.authorizer.iam.userArn };
    });
}
