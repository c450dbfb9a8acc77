/**
 * The HTTP calls handlers make to the fleet's tasks (deep health checks, the
 * trading services' admin API), injected so the sandbox can route them. Headers
 * may carry credentials: never log a request.
 */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

export const fetchHttp: HttpClient = async ({ method, url, headers, body, timeoutMs }) => {
  const response = await fetch(url, {
    method,
    ...(headers ? { headers } : {}),
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  return { status: response.status, body: await response.text() };
};
