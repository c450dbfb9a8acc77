/** The one HTTP call handlers make (deep health checks), injected so the sandbox can route it. */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export type HttpGet = (url: string, options: { readonly timeoutMs: number }) => Promise<HttpResponse>;

export const fetchHttpGet: HttpGet = async (url, { timeoutMs }) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  return { status: response.status, body: await response.text() };
};
