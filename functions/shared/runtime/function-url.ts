/**
 * Function URL responses. A function URL turns a thrown error into a bare 502, so
 * a decision function answers a refusal itself, as HTTP: 403 with the reason
 * (the request was understood and is not allowed). Any other error still throws.
 */
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
