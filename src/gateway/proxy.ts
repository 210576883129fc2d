/**
 * Forwards one buffered request to an instance over its Unix socket and streams the answer back.
 * Each instance has one undici `Pool` of keep-alive connections (the hop costs about half the
 * gateway CPU of a `node:http` agent: see docs/architecture.md, "The hop").
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { Instance, LimitViolation } from '../pool/index.ts';

const pools: WeakMap<Instance, Pool> = new WeakMap();

/**
 * The connection pool of `instance`, destroyed (failing what it still holds) when the instance
 * exits. The pool already bounds requests in flight to the concurrency; undici gets twice that many
 * connections so a request never waits for a connection that has answered but is not yet free.
 * Timeouts are kumo's (the invocation's deadline aborts the request), not undici's.
 */
export function poolFor(instance: Instance, concurrency: number): Pool {
  let pool = pools.get(instance);
  if (!pool) {
    const created = new Pool('http://instance', {
      socketPath: instance.socketPath,
      connections: concurrency * 2,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 60_000,
    });
    pools.set(instance, created);
    void instance.exited.then(() => created.destroy(new Error('the instance exited')).catch(() => {}));
    pool = created;
  }
  return pool;
}

/** How a forwarded request ended. */
export type ProxyOutcome =
  /** The whole response reached the client (or the client left and the rest was drained). */
  | { kind: 'done'; status: number; headers: IncomingHttpHeaders }
  /** The instance connection failed: before the response began, or in the middle of it. */
  | { kind: 'upstream_error'; error: Error; responseStarted: boolean }
  /** The function's response went over the size limit (cut off, or refused up front when declared). */
  | { kind: 'too_large'; responseStarted: boolean; limit: number }
  /** The function answered an error after running into one of its limits (nothing was sent on). */
  | { kind: 'limit'; violation: LimitViolation }
  /** The function answered 101 Switching Protocols: kumo does not proxy upgraded connections. */
  | { kind: 'upgrade'; status: number };

/** What to send, where, and what to add to the response. */
export interface ProxyRequest {
  instance: Instance;
  pool: Dispatcher;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** Headers the gateway adds to the function's response. */
  responseHeaders: Record<string, string>;
  /** Filters the function's response headers (hop-by-hop). */
  filterResponseHeaders: (headers: IncomingHttpHeaders) => OutgoingHttpHeaders;
  signal: AbortSignal;
  /** Keeps a copy of the first bytes of the response body (for the invocation history). */
  capture?: BodyCapture | undefined;
  /** Largest response body in bytes. */
  responseLimit: number;
}

/** Where a forwarded response goes: the client's ServerResponse, or a buffer for an async run. */
export interface ResponseSink {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  flushHeaders(): void;
  write(chunk: Buffer): boolean;
  end(cb: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  /** Cuts the response off (a body over the limit after it began). */
  destroy(error?: Error): unknown;
}

/** The first `limit` bytes of a body, and whether there was more. */
export interface BodyCapture {
  limit: number;
  chunks: Buffer[];
  size: number;
  truncated: boolean;
}

/** Adds `chunk` to `capture` up to its limit. */
export function captureChunk(capture: BodyCapture, chunk: Buffer): void {
  const room = capture.limit - capture.size;
  if (room <= 0) {
    if (chunk.length) capture.truncated = true;
    return;
  }
  const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
  if (part.length < chunk.length) capture.truncated = true;
  capture.chunks.push(part);
  capture.size += part.length;
}

/** The request headers undici accepts: strings only; `expect` is answered by kumo's server, not sent on. */
function upstreamHeaders(headers: OutgoingHttpHeaders, length: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || key === 'expect' || key === 'content-length') continue;
    out[key] = typeof value === 'number' ? String(value) : value;
  }
  out['content-length'] = String(length);
  return out;
}

/** Sends `r` to its instance and pipes the response into `res`. Never rejects. */
export function forward(r: ProxyRequest, res: ResponseSink): Promise<ProxyOutcome> {
  return new Promise((resolve) => {
    const relay = new Relay(r, res, resolve);
    try {
      r.pool.dispatch(
        { method: r.method, path: r.path, headers: upstreamHeaders(r.headers, r.body.length), body: r.body },
        relay,
      );
    } catch (error) {
      relay.settle({ kind: 'upstream_error', error: error as Error, responseStarted: false });
    }
  });
}

/**
 * Relays one response from undici into the sink: headers once the status is known (an error status
 * waits until the instance says whether a limit caused it), body chunks with backpressure, the end.
 * Settles exactly once; the invocation's abort signal aborts the request.
 */
class Relay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  /** The status and headers were written to the sink. */
  private started = false;
  private size = 0;
  private chunks = 0;
  /** Chunks that arrived while an error status waited for the violation check. */
  private held: Buffer[] = [];
  private endedWhileHeld = false;
  private parked = false;
  private status = 502;
  private headers: IncomingHttpHeaders = {};
  private readonly onAbort = () => {
    const reason = this.r.signal.reason instanceof Error ? this.r.signal.reason : new Error('aborted');
    this.controller?.abort(reason);
  };

  private readonly r: ProxyRequest;
  private readonly res: ResponseSink;
  private readonly resolve: (outcome: ProxyOutcome) => void;

  constructor(r: ProxyRequest, res: ResponseSink, resolve: (outcome: ProxyOutcome) => void) {
    this.r = r;
    this.res = res;
    this.resolve = resolve;
    r.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  settle(outcome: ProxyOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.r.signal.removeEventListener('abort', this.onAbort);
    this.resolve(outcome);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.r.signal.aborted) this.onAbort();
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.status = status;
    this.headers = headers;
    const declared = Number(headers['content-length'] ?? NaN);
    if (declared > this.r.responseLimit) {
      this.settle({ kind: 'too_large', responseStarted: false, limit: this.r.responseLimit });
      return controller.abort(new Error('response over the limit'));
    }
    if (status < 500) return this.begin();
    // An error answer: if a limit caused it, that is what the caller must hear. Asked only
    // here, so a healthy answer never waits for the check.
    this.parked = true;
    controller.pause();
    const unpark = () => {
      this.parked = false;
      if (this.settled) return;
      this.begin();
      for (const chunk of this.held.splice(0)) this.relayChunk(chunk);
      if (this.endedWhileHeld) this.finish();
      else controller.resume();
    };
    void this.r.instance.violation().then((violation) => {
      if (!violation) return unpark();
      this.settle({ kind: 'limit', violation });
      controller.abort(new Error('the function ran into a limit'));
    }, unpark);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.parked) {
      this.held.push(chunk);
      return;
    }
    this.relayChunk(chunk);
  }

  onResponseEnd(): void {
    if (this.parked) {
      this.endedWhileHeld = true;
      return;
    }
    this.finish();
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    // undici refuses a 101 it did not ask for ("bad upgrade"); kumo does not proxy upgraded
    // connections, and nothing was sent on (the caller had hung past the timeout with node:http).
    if (
      !this.started &&
      (error as { code?: string }).code === 'UND_ERR_SOCKET' &&
      /upgrade/.test(error.message)
    )
      return this.settle({ kind: 'upgrade', status: 101 });
    this.settle({ kind: 'upstream_error', error, responseStarted: this.started });
  }

  /** Writes the status and headers; a streaming function's headers must not wait for its first chunk. */
  private begin(): void {
    this.started = true;
    const { res, r } = this;
    res.writeHead(this.status, { ...r.filterResponseHeaders(this.headers), ...r.responseHeaders });
    // Flushed once the socket has nothing more to read: a short answer has arrived whole by then,
    // so its headers, body and end leave in one write instead of three.
    setImmediate(() => {
      if (this.chunks === 0 && !this.settled && !res.destroyed) res.flushHeaders();
    });
    res.once('close', () => {
      // the client left: keep reading so the instance finishes normally
      if (!res.writableFinished) this.controller?.resume();
    });
  }

  private relayChunk(chunk: Buffer): void {
    const { res, r } = this;
    this.chunks++;
    this.size += chunk.length;
    if (this.size > r.responseLimit) {
      // The status is already sent: cutting the connection is the only honest signal left.
      res.destroy();
      this.settle({ kind: 'too_large', responseStarted: true, limit: r.responseLimit });
      return this.controller?.abort(new Error('response over the limit'));
    }
    if (r.capture) captureChunk(r.capture, chunk);
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      this.controller?.pause();
      res.once('drain', () => this.controller?.resume());
    }
  }

  private finish(): void {
    const done: ProxyOutcome = { kind: 'done', status: this.status, headers: this.headers };
    const { res } = this;
    if (res.destroyed) return this.settle(done);
    // end()'s callback never runs when the client leaves before the last write is flushed
    res.once('close', () => this.settle(done));
    res.end(() => this.settle(done));
  }
}
