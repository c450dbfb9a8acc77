/**
 * The downstream systems whose credentials a `downstream` secret holds. The
 * rotation function installs the pending value there (setSecret) and logs in
 * with it (testSecret). Credentials travel only in request headers and bodies:
 * never in a URL, a log line, a return value or an error message.
 */
import type { FleetSecret } from '../../../lib/fleet/fleet';
import { CredentialProviderUnavailableError, CredentialRejectedError } from '../runtime/errors';
import type { HttpClient, HttpResponse } from '../runtime/http';

export interface CredentialProvider {
  /** Changes the account's password from `current` to `pending`, authenticated with `current`. */
  setCredential(input: { readonly username: string; readonly current: string; readonly pending: string }): Promise<void>;
  /** Resolves when the system accepts `value` for the account; CredentialRejectedError when it refuses it. */
  testCredential(input: { readonly username: string; readonly value: string }): Promise<void>;
}

export type DownstreamSecret = Extract<FleetSecret, { kind: 'downstream' }>;

/** Each call's time limit: well inside the rotation function's 30 s. */
export const CREDENTIAL_API_TIMEOUT_MS = 5_000;

const basic = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/**
 * `http-credential-api` (https only): `POST <url>/credentials` with HTTP Basic auth
 * (username:current) and `{"newPassword"}` changes the password (any 2xx);
 * `GET <url>/session` with Basic username:password answers 200 when the password
 * is accepted. Anything else is a refusal, named by its status only (a 401 page
 * may echo the credentials, so response bodies are never quoted).
 */
export class HttpCredentialApiProvider implements CredentialProvider {
  private readonly baseUrl: string;

  constructor(
    url: string,
    private readonly http: HttpClient,
    private readonly timeoutMs = CREDENTIAL_API_TIMEOUT_MS,
  ) {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  async setCredential({ username, current, pending }: { username: string; current: string; pending: string }): Promise<void> {
    const url = `${this.baseUrl}/credentials`;
    const response = await this.call('POST', url, {
      headers: { authorization: basic(username, current), 'content-type': 'application/json' },
      body: JSON.stringify({ newPassword: pending }),
    });
    if (response.status < 200 || response.status > 299) {
      throw new CredentialRejectedError(`POST ${url} refused the password change for ${username}: HTTP ${response.status}`);
    }
  }

  async testCredential({ username, value }: { username: string; value: string }): Promise<void> {
    const url = `${this.baseUrl}/session`;
    const response = await this.call('GET', url, { headers: { authorization: basic(username, value) } });
    if (response.status !== 200) throw new CredentialRejectedError(`GET ${url} refused the login of ${username}: HTTP ${response.status}`);
  }

  private async call(method: 'GET' | 'POST', url: string, request: { headers: Record<string, string>; body?: string }): Promise<HttpResponse> {
    // The fleet schema already refuses other URLs; a password must never leave in cleartext even so.
    if (!url.startsWith('https://')) throw new CredentialProviderUnavailableError(`${method} ${url} not sent: credentials go to https URLs only`);
    try {
      return await this.http({ method, url, ...request, timeoutMs: this.timeoutMs });
    } catch (error) {
      // The error's name only, and no cause: a client's message could quote the request, credential included.
      throw new CredentialProviderUnavailableError(`${method} ${url} failed: ${(error as Error).name || 'Error'}`);
    }
  }
}

/** The provider a downstream secret's fleet-file entry describes. */
export function credentialProviderFor(secret: DownstreamSecret, http: HttpClient): CredentialProvider {
  switch (secret.provider.type) {
    case 'http-credential-api':
      return new HttpCredentialApiProvider(secret.provider.url, http);
  }
}

export type CredentialProviderFactory = (secret: DownstreamSecret, http: HttpClient) => CredentialProvider;
