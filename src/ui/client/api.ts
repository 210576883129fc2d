/**
 * The console's client of /api/v1. The API key lives in this object only — in memory, never in
 * localStorage, sessionStorage, a cookie or a URL — and goes out in an Authorization header.
 * Memory rather than sessionStorage because /fn/NAME pages share the console's origin: a
 * function's page opened in the same tab could read sessionStorage, but not a closed page's memory.
 */

/** The scopes of kumo's API keys. */
export type Scope = 'admin' | 'deploy' | 'invoke' | 'read';

/** The key in use, as GET /whoami describes it. */
export interface Caller {
  id: string;
  name: string;
  scopes: string[];
}

/** An answer of the API that was not 2xx. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Whether `scopes` allow `need` (admin allows everything). */
export function can(scopes: readonly string[], need: Scope): boolean {
  return scopes.includes('admin') || scopes.includes(need);
}

/** Query parameters; undefined and empty values are left out. */
export type Query = Record<string, string | number | undefined>;

/** What an invocation from the console got. */
export interface InvokeResult {
  status: number;
  headers: [string, string][];
  body: string;
  ms: number;
}

/** The API, called with one key. */
export class Api {
  private readonly key: string;
  /** Called when the key stops working (revoked): the page signs out. */
  onUnauthorized: (() => void) | undefined;

  constructor(key: string) {
    this.key = key;
  }

  /** Checks the key and says who it is. */
  whoami(): Promise<Caller> {
    return this.get<Caller>('/whoami');
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, {}, body);
  }

  del<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  private async request<T>(method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`/api/v1${path}${queryString(query)}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
    });
    const text = await res.text();
    const data: unknown = text ? JSON.parse(text) : {};
    if (!res.ok) throw this.failure(res.status, data);
    return data as T;
  }

  private failure(status: number, data: unknown): ApiError {
    const e = (data as { error?: { code?: string; message?: string } }).error;
    if (status === 401) this.onUnauthorized?.();
    return new ApiError(status, e?.code ?? 'error', e?.message ?? `HTTP ${status}`);
  }

  /**
   * Follows an NDJSON stream (the logs' follow=1), calling `onItem` for each object, until
   * `signal` aborts or the server ends it.
   */
  async follow<T>(
    path: string,
    query: Query,
    onItem: (item: T) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    const res = await fetch(`/api/v1${path}${queryString(query)}`, {
      headers: { authorization: `Bearer ${this.key}` },
      signal,
      cache: 'no-store',
    });
    if (!res.ok || !res.body) throw this.failure(res.status, await res.json().catch(() => ({})));
    onOpen?.();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      rest += value;
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onItem(JSON.parse(line) as T);
    }
  }

  /**
   * Calls a function through /fn/NAME. The key is sent only when `withKey` (a private
   * function); kumo removes it before the function sees the request.
   */
  async invoke(
    fn: string,
    req: { method: string; path: string; headers: [string, string][]; body: string },
    withKey: boolean,
  ): Promise<InvokeResult> {
    const headers = new Headers(req.headers);
    if (withKey && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.key}`);
    const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
    const started = performance.now();
    const res = await fetch(`/fn/${encodeURIComponent(fn)}${path}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req.body,
      cache: 'no-store',
      redirect: 'manual',
    });
    const body = await res.text();
    return { status: res.status, headers: [...res.headers], body, ms: performance.now() - started };
  }
}

/** `?a=1&b=2` of the defined, non-empty values ('' when none). */
export function queryString(query: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
