/**
 * Step Functions list pagination, as its API reference documents it: "The
 * default is 100 and the maximum allowed page size is 1000. A value of 0 uses
 * the default." A `nextToken` continues the same listing and "expires after
 * 24 hours. Using an expired pagination token will return an HTTP 400
 * InvalidToken error."
 */
import { SimulatedAwsError } from './aws-error';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const TOKEN_LIFETIME_MS = 24 * 3600_000;

interface TokenBody {
  /** What is listed (the state machine or execution ARN): a token is valid for that listing only. */
  readonly scope: string;
  /** The key of the last item returned: the next page starts after it, so items added meanwhile shift nothing. */
  readonly after: string;
  readonly issuedAt: number;
}

export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  scope: string,
  input: { readonly maxResults?: unknown; readonly nextToken?: unknown },
): { page: T[]; nextToken?: string } {
  const requested = input.maxResults === undefined ? 0 : Number(input.maxResults);
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_PAGE) {
    throw new SimulatedAwsError(
      'ValidationException',
      `1 validation error detected: Value '${String(input.maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_PAGE}`,
    );
  }
  const size = requested === 0 ? DEFAULT_PAGE : requested;
  const after = input.nextToken === undefined || input.nextToken === null ? undefined : readToken(String(input.nextToken), scope);
  const offset = after === undefined ? 0 : items.findIndex((item) => keyOf(item) === after) + 1;
  const page = items.slice(offset, offset + size);
  const last = page.at(-1);
  if (offset + page.length >= items.length || last === undefined) return { page };
  const body: TokenBody = { scope, after: keyOf(last), issuedAt: Date.now() };
  return { page, nextToken: Buffer.from(JSON.stringify(body)).toString('base64') };
}

function readToken(token: string, scope: string): string {
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw new SimulatedAwsError('InvalidToken', `Invalid Token: '${token}'`);
  }
  if (body.scope !== scope || typeof body.after !== 'string' || typeof body.issuedAt !== 'number') {
    throw new SimulatedAwsError('InvalidToken', `Invalid Token: '${token}'`);
  }
  if (Date.now() - body.issuedAt > TOKEN_LIFETIME_MS) throw new SimulatedAwsError('InvalidToken', `Invalid Token: 'Token has expired'`);
  return body.after;
}
