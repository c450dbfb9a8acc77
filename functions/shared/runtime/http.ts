/**
 * The HTTP calls handlers make to the fleet's tasks (deep health checks, the
 * trading services' admin API), injected so the sandbox can route them. Headers
 * may carry credentials: never log a request.
 */
import { request as httpsRequest } from 'node:https';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /**
   * https only: trust these CA certificates (PEM) instead of the runtime's public ones, and
   * verify the certificate for `serverName` (also sent as SNI) rather than the URL's host:
   * tasks are called by IP, and internal CAs issue certificates for a service's DNS name.
   */
  readonly tls?: { readonly ca: string; readonly serverName?: string };
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

export const fetchHttp: HttpClient = async (request) => {
  if (request.tls) return httpsWithCa(request, request.tls);
  const { method, url, headers, body, timeoutMs } = request;
  const response = await fetch(url, {
    method,
    ...(headers ? { headers } : {}),
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  return { status: response.status, body: await response.text() };
};

/**
 * node:https, because fetch cannot take a CA bundle. Certificate and name checks are Node's own
 * (rejectUnauthorized stays on); a failure rejects with Node's error (code and message say why).
 */
function httpsWithCa({ method, url, headers, body, timeoutMs }: HttpRequest, tls: NonNullable<HttpRequest['tls']>): Promise<HttpResponse> {
  const target = new URL(url);
  if (target.protocol !== 'https:') return Promise.reject(new TypeError(`A CA bundle is for https only, not ${target.protocol}`));
  return new Promise((resolve, reject) => {
    const call = httpsRequest(
      target,
      {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
        ca: tls.ca,
        ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
        rejectUnauthorized: true,
        // One connection per call: a pooled socket verified for another request must not be reused with different settings.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    call.on('error', (error: Error) => {
      // As fetch does: a timeout is a TimeoutError, whatever the stage it struck.
      if (error.name === 'AbortError') reject(Object.assign(new Error(`${method} ${target.host} timed out after ${timeoutMs} ms`), { name: 'TimeoutError' }));
      else reject(error);
    });
    call.end(body);
  });
}
