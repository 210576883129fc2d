/** The CLI's HTTP client of the kumo server: URLs, connection failures and error bodies in one place. */
import type { z } from 'zod';
import { loggedInServer } from './credentials.ts';
import { CliError } from './io.ts';
import { errorBodySchema } from './responses.ts';

/** Where the server listens unless KUMO_URL or --url say otherwise. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** The server's base URL: the --url flag, else KUMO_URL, else the server of `kumo login`, else the default. */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv): URL {
  const raw = flag ?? (env.KUMO_URL || loggedInServer(env) || DEFAULT_SERVER_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(
      `server URL ${JSON.stringify(raw)} is not a URL (set --url or KUMO_URL like ${DEFAULT_SERVER_URL})`,
      {
        exitCode: 2,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`server URL ${JSON.stringify(raw)} must start with http:// or https://`, {
      exitCode: 2,
    });
  }
  return url;
}

/** Query parameters; arrays repeat the key, undefined values are left out. */
export type Query = Record<string, string | readonly string[] | undefined>;

/** Talks to one kumo server. */
export class ApiClient {
  readonly base: URL;
  /** The API key sent as `Authorization: Bearer` (see credentials.ts for where it comes from). */
  private readonly key: string | undefined;

  constructor(base: URL, key?: string) {
    this.base = base;
    this.key = key;
  }

  /** The absolute URL of `pathname` (which starts with "/") on this server, with `query`. */
  url(pathname: string, query: Query = {}): URL {
    const url = new URL(this.base.href);
    // Keep a path prefix in KUMO_URL (a server behind a reverse proxy at /kumo).
    url.pathname = url.pathname.replace(/\/+$/, '') + pathname;
    url.search = '';
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) url.searchParams.append(key, v);
    }
    return url;
  }

  /** Sends a request; a server that cannot be reached becomes one CliError saying how to start it. */
  async send(url: URL, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(url, this.withKey(url, init));
    } catch (err) {
      throw unreachable(this.base, err);
    }
  }

  /** `init` with the API key added, for this server only; an Authorization header given by the caller wins. */
  private withKey(url: URL, init: RequestInit): RequestInit {
    if (this.key === undefined || url.origin !== this.base.origin) return init;
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.key}`);
    return { ...init, headers };
  }

  /** Sends a control-plane request and validates the JSON answer; non-2xx answers throw their error. */
  async json<T>(
    schema: z.ZodType<T>,
    method: string,
    pathname: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<{ raw: unknown; data: T }> {
    const init: RequestInit = { method, headers: { accept: 'application/json' } };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    }
    const response = await this.send(this.url(pathname, options.query), init);
    if (!response.ok) throw await responseError(response);
    const raw = await readJson(response, `${method} ${pathname}`);
    return { raw, data: validate(schema, raw, `${method} ${pathname}`) };
  }
}

/** Checks a server answer against its schema, naming the first field that does not fit. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? `"${issue.path.join('.')}" ` : '';
  throw new CliError(
    `unexpected answer to ${what}: ${field}${issue?.message ?? 'invalid'} (is the server a kumo server?)`,
  );
}

/** The JSON body of a 2xx answer; a body that is not JSON is a CliError naming the request. */
export async function readJson(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`unexpected answer to ${what}: not JSON: ${oneLine(text)}`);
  }
}

/** The CliError for a non-2xx answer: the server's `{error:{code,message}}`, or the status and body start. */
export async function responseError(response: Response): Promise<CliError> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success)
    return new CliError(oneLine(parsed.data.error.message), { code: parsed.data.error.code });
  const status = `${response.status} ${response.statusText}`.trim();
  return new CliError(
    text.trim() ? `server answered ${status}: ${oneLine(text)}` : `server answered ${status}`,
  );
}

/** A message on one line and of reasonable length, since every failure is reported on one stderr line. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function unreachable(base: URL, err: unknown): CliError {
  const origin = base.href.replace(/\/$/, '');
  const code = causeCode(err);
  const hint = 'start it with `npm start` or `npx kumo up`, or point KUMO_URL at it';
  if (code === 'ECONNREFUSED') return new CliError(`no kumo server is running at ${origin}: ${hint}`);
  const reason = code ?? (err instanceof Error ? err.message : String(err));
  return new CliError(`cannot reach the kumo server at ${origin} (${reason}): ${hint}`);
}

/** The errno code behind fetch's "fetch failed", looking into AggregateError (IPv6 then IPv4 attempts). */
function causeCode(err: unknown): string | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  if (!(cause instanceof Error)) return undefined;
  if ('code' in cause && typeof cause.code === 'string') return cause.code;
  if (cause instanceof AggregateError) {
    for (const inner of cause.errors) {
      if (inner instanceof Error && 'code' in inner && typeof inner.code === 'string') return inner.code;
    }
  }
  return undefined;
}
