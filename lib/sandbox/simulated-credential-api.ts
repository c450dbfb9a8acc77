/**
 * The downstream credential APIs of the fleet's `downstream` secrets
 * (`provider.type: http-credential-api`), answering at each provider URL's host:
 *
 * - `POST <url>/credentials` with `Authorization: Basic <username:password>` and
 *   `{"newPassword"}`: changes the account's password, only for a caller
 *   authenticated with the current one (401 otherwise); 400 for a body without a
 *   string newPassword of at least 16 characters.
 * - `GET <url>/session` with Basic auth: 200 when the password is the current
 *   one, 401 otherwise.
 * - https only: a plain-HTTP request finds no listener (connection refused).
 *
 * Kept simple on purpose: one valid password per account. A change takes effect
 * at once and the old password stops working, so until the consumers restart
 * with the new value (the rotate-secret workflow redeploys them) they are
 * locked out: that is the single-user rotation trade-off, and the sandbox shows
 * it rather than hiding it. Each account starts with the secret's value at the
 * time the sandbox seeds the fleet (its first value). Answers never echo a
 * password; `requests` records who called what and the status, not credentials.
 */
import type { HttpRequest, HttpResponse } from '../../functions/shared/runtime/http';
import type { Fleet } from '../fleet/fleet';

export interface CredentialAccountState {
  /** The provider's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly username: string;
  password: string;
  changedAt: number;
}

export interface CredentialApiRequest {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly username?: string;
  readonly status: number;
}

/** New passwords must be at least this long (the fleet file's downstream minimum). */
const MIN_PASSWORD_LENGTH = 16;

const json = (status: number, body: unknown): HttpResponse => ({ status, body: JSON.stringify(body) });

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

export class SimulatedCredentialApi {
  private readonly accounts = new Map<string, CredentialAccountState>();
  readonly requests: CredentialApiRequest[] = [];
  /** The providers the fleet file names: base URL → the accounts it knows. */
  private readonly providers: { readonly baseUrl: string; readonly host: string; readonly pathname: string }[];

  constructor(private readonly fleet: Fleet) {
    const baseUrls = new Set<string>();
    for (const secret of Object.values(fleet.secrets)) if (secret.kind === 'downstream') baseUrls.add(trimSlash(secret.provider.url));
    this.providers = [...baseUrls].map((baseUrl) => {
      const url = new URL(baseUrl);
      return { baseUrl, host: url.host, pathname: trimSlash(url.pathname) };
    });
  }

  /** Gives every downstream account its first password: the secret's value now (`valueOf` by secret name). */
  seed(valueOf: (secretName: string) => string | undefined): void {
    for (const secret of Object.values(this.fleet.secrets)) {
      if (secret.kind !== 'downstream') continue;
      const password = valueOf(secret.name);
      if (password === undefined) continue;
      const baseUrl = trimSlash(secret.provider.url);
      this.accounts.set(key(baseUrl, secret.provider.username), { baseUrl, username: secret.provider.username, password, changedAt: Date.now() });
    }
  }

  snapshot(): CredentialAccountState[] {
    return structuredClone([...this.accounts.values()]);
  }

  restore(accounts: readonly CredentialAccountState[]): void {
    for (const account of structuredClone(accounts)) this.accounts.set(key(account.baseUrl, account.username), account);
  }

  /** The account's password now (for tests and the sandbox's own checks). */
  password(baseUrl: string, username: string): string | undefined {
    return this.accounts.get(key(trimSlash(baseUrl), username))?.password;
  }

  /** Whether a request goes to one of the credential APIs (by host, as DNS would route it). */
  handles(url: string): boolean {
    const host = safeUrl(url)?.host;
    return host !== undefined && this.providers.some((p) => p.host === host);
  }

  async request({ method, url, headers, body }: HttpRequest): Promise<HttpResponse> {
    const parsed = safeUrl(url);
    // The APIs listen on https only (certificates from a public CA); nothing answers on port 80.
    if (parsed && parsed.protocol !== 'https:') {
      throw Object.assign(new Error(`connect ECONNREFUSED ${parsed.hostname}:${parsed.port || 80}`), { code: 'ECONNREFUSED' });
    }
    const provider = parsed
      ? this.providers.find((p) => p.host === parsed.host && (parsed.pathname === p.pathname || parsed.pathname.startsWith(`${p.pathname}/`)))
      : undefined;
    const path = provider && parsed ? parsed.pathname.slice(provider.pathname.length) : '';
    const credentials = basicCredentials(headers ?? {});
    const answer = (response: HttpResponse): HttpResponse => {
      this.requests.push({
        at: Date.now(),
        method,
        url: parsed ? `${parsed.origin}${parsed.pathname}` : 'invalid',
        ...(credentials ? { username: credentials.username } : {}),
        status: response.status,
      });
      return response;
    };
    if (!provider) return answer(json(404, { error: 'not found' }));
    if (path !== '/credentials' && path !== '/session') return answer(json(404, { error: 'not found' }));
    if ((path === '/credentials' && method !== 'POST') || (path === '/session' && method !== 'GET')) return answer(json(405, { error: 'method not allowed' }));
    const account = credentials ? this.accounts.get(key(provider.baseUrl, credentials.username)) : undefined;
    if (!credentials || !account || account.password !== credentials.password) return answer(json(401, { error: 'unauthorized' }));
    if (path === '/session') return answer(json(200, { username: account.username, authenticated: true }));
    let payload: { newPassword?: unknown };
    try {
      payload = JSON.parse(body ?? '') as typeof payload;
    } catch {
      return answer(json(400, { error: 'body must be JSON' }));
    }
    if (typeof payload.newPassword !== 'string' || payload.newPassword.length < MIN_PASSWORD_LENGTH) {
      return answer(json(400, { error: `newPassword must be a string of at least ${MIN_PASSWORD_LENGTH} characters` }));
    }
    account.password = payload.newPassword;
    account.changedAt = Date.now();
    return answer(json(200, { username: account.username, changed: true }));
  }
}

const key = (baseUrl: string, username: string): string => `${baseUrl}|${username}`;

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function basicCredentials(headers: Readonly<Record<string, string>>): { username: string; password: string } | undefined {
  const value = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(value ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
