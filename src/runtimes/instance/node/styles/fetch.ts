/**
 * Web-standard style: `fetch(request, env, ctx)` (or a default `(request) => Response`) gets a
 * WHATWG Request and returns a Response, which is streamed back chunk by chunk as the body
 * produces it. A plain return value is sent like every other style's (JSON, text, bytes), and
 * nothing at all is a 204.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Adapter, HandlerFunction, Invocation } from '../invocation.ts';
import { isBytes, sendValue, toBuffer } from '../respond.ts';

/** The third argument of a fetch handler, after Cloudflare's ExecutionContext. */
export interface FetchContext {
  /** Keeps the instance from shutting down before `promise` settles; the response does not wait. */
  waitUntil(promise: unknown): void;
  invocationId: string;
  /** Epoch ms after which the platform kills the instance. */
  deadline: number;
}

/** Serves invocations with a fetch-style handler. */
export function fetchAdapter(fn: HandlerFunction, thisArg: unknown): Adapter {
  return async (req, res, invocation) => {
    const aborted = new AbortController();
    // The client (the gateway) went away before the response was complete: tell the handler.
    res.once('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    const request = toRequest(req, invocation.body, aborted.signal);
    const ctx = fetchContext(invocation);
    const result: unknown = await fn.call(thisArg, request, { ...invocation.vars }, ctx);
    if (isResponse(result)) await writeResponse(res, result, req.method === 'HEAD');
    else sendValue(res, result, 200, 204);
  };
}

/** The ctx argument for one invocation. */
function fetchContext(invocation: Invocation): FetchContext {
  return {
    waitUntil: (promise) => invocation.waitUntil(promise),
    invocationId: invocation.id,
    deadline: invocation.deadline,
  };
}

/** The WHATWG Request for a Node request whose body has been read into `body`. */
export function toRequest(req: IncomingMessage, body: Buffer, signal?: AbortSignal): Request {
  const method = req.method ?? 'GET';
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i] as string, raw[i + 1] as string);
    } catch {
      // A header Node accepted but the Headers class refuses: the handler cannot see it anyway.
    }
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && body.length > 0;
  return new Request(requestUrl(req), {
    method,
    headers,
    ...(hasBody ? { body } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** `http://<host><path>`, falling back to localhost when the Host header is unusable. */
function requestUrl(req: IncomingMessage): string {
  const path = req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`;
  const host = req.headers.host;
  if (host) {
    try {
      return new URL(`http://${host}${path}`).href;
    } catch {
      // fall through
    }
  }
  return new URL(path, 'http://localhost').href;
}

/** Response-like: a Response of this realm, or one of another fetch implementation (undici, node-fetch). */
function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { status?: unknown; headers?: { forEach?: unknown }; body?: unknown };
  return typeof v.status === 'number' && typeof v.headers?.forEach === 'function' && 'body' in v;
}

/** Writes status, headers and the body of `response`, chunk by chunk, honouring backpressure. */
export async function writeResponse(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  response.headers.forEach((value, name) => {
    if (name.toLowerCase() !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = setCookies(response.headers);
  if (cookies.length) res.setHeader('set-cookie', cookies);
  const body = response.body;
  if (!body || head) {
    res.end();
    await body?.cancel().catch(() => {});
    return;
  }
  // A body that is there at once (most are) leaves with the headers and the end in one write;
  // once the event loop turns, the headers go out anyway, so a slow first chunk does not hold
  // back the status, and every later chunk is sent as it comes.
  res.cork();
  const streaming = setImmediate(() => {
    if (!res.headersSent && !res.destroyed) res.flushHeaders();
    uncorkAll(res);
  });
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(toChunk(value))) await drained(res);
    }
    res.end();
  } finally {
    clearImmediate(streaming);
    uncorkAll(res);
    if (res.destroyed || !res.writableEnded) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Undoes every cork() on `res`. */
function uncorkAll(res: ServerResponse): void {
  while (res.writableCorked > 0) res.uncork();
}

/** Every Set-Cookie value, kept apart (joining them with commas would break their dates). */
function setCookies(headers: Headers): string[] {
  if (typeof headers.getSetCookie === 'function') return headers.getSetCookie();
  const joined = headers.get('set-cookie');
  return joined ? [joined] : [];
}

/** A body chunk as bytes; strings are accepted for streams built by hand. */
function toChunk(value: unknown): Buffer | string {
  if (typeof value === 'string') return value;
  if (isBytes(value)) return toBuffer(value);
  throw new TypeError(`a Response body chunk must be a Uint8Array or a string (got ${typeof value})`);
}

/** Resolves when `res` can take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
