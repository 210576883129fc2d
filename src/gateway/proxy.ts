/**
 * Forwards one buffered request to an instance over its Unix socket and streams the answer back.
 * Connections to an instance are kept alive and reused (one agent per instance).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Instance, LimitViolation } from '../pool/index.ts';

const agents: WeakMap<Instance, http.Agent> = new WeakMap();

/**
 * The keep-alive agent of `instance`, destroyed when the instance exits. The pool already bounds
 * requests in flight to the concurrency; the agent gets twice that many sockets so a request never
 * waits in the agent's own queue for a socket that has answered but is not yet free again.
 */
export function agentFor(instance: Instance, concurrency: number): http.Agent {
  let agent = agents.get(instance);
  if (!agent) {
    const sockets = concurrency * 2;
    const created = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
    agents.set(instance, created);
    void instance.exited.then(() => {
      // destroy() closes the sockets but leaves queued requests waiting forever: fail them too
      for (const queue of Object.values(created.requests))
        for (const req of queue ?? []) req.destroy(new Error('the instance exited'));
      created.destroy();
    });
    agent = created;
  }
  return agent;
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
  agent: http.Agent;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** Headers the gateway adds to the function's response. */
  responseHeaders: Record<string, string>;
  /** Filters the function's response headers (hop-by-hop). */
  filterResponseHeaders: (headers: IncomingMessage['headers']) => OutgoingHttpHeaders;
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

/** Sends `r` to its instance and pipes the response into `res`. Never rejects. */
export function forward(r: ProxyRequest, res: ResponseSink): Promise<ProxyOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: ProxyOutcome) => {
      if (settled) return;
      settled = true;
      r.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const upstream = http.request({
      socketPath: r.instance.socketPath,
      agent: r.agent,
      method: r.method,
      path: r.path,
      headers: { ...r.headers, 'content-length': String(r.body.length) },
    });
    const onAbort = () =>
      upstream.destroy(r.signal.reason instanceof Error ? r.signal.reason : new Error('aborted'));
    r.signal.addEventListener('abort', onAbort, { once: true });
    let started = false;
    const relay = (ures: IncomingMessage) => {
      const declared = Number(ures.headers['content-length'] ?? NaN);
      if (declared > r.responseLimit) {
        ures.destroy();
        return settle({ kind: 'too_large', responseStarted: false, limit: r.responseLimit });
      }
      started = true;
      let size = 0;
      res.writeHead(ures.statusCode ?? 502, {
        ...r.filterResponseHeaders(ures.headers),
        ...r.responseHeaders,
      });
      // A streaming function's headers must not wait for its first chunk: flush them once the
      // socket has nothing more to read. A short answer has arrived whole by then, so its
      // headers, body and end leave in one write instead of three.
      let chunks = 0;
      setImmediate(() => {
        if (chunks === 0 && !ures.complete && !res.destroyed) res.flushHeaders();
      });
      ures.on('error', (error) => settle({ kind: 'upstream_error', error, responseStarted: true }));
      ures.on('aborted', () =>
        settle({
          kind: 'upstream_error',
          error: new Error('instance closed the response'),
          responseStarted: true,
        }),
      );
      ures.on('end', () => {
        const done: ProxyOutcome = { kind: 'done', status: ures.statusCode ?? 502, headers: ures.headers };
        if (res.destroyed) return settle(done);
        // end()'s callback never runs when the client leaves before the last write is flushed
        res.once('close', () => settle(done));
        res.end(() => settle(done));
      });
      ures.on('data', (chunk: Buffer) => {
        chunks++;
        size += chunk.length;
        if (size > r.responseLimit) {
          // The status is already sent: cutting the connection is the only honest signal left.
          ures.destroy();
          res.destroy();
          return settle({ kind: 'too_large', responseStarted: true, limit: r.responseLimit });
        }
        if (r.capture) captureChunk(r.capture, chunk);
        if (res.destroyed) return; // the client left: drain so the instance finishes normally
        if (!res.write(chunk)) {
          ures.pause();
          res.once('drain', () => ures.resume());
        }
      });
      res.once('close', () => {
        if (!res.writableFinished) ures.resume();
      });
    };
    const resumeRelay = (ures: IncomingMessage) => {
      relay(ures);
      ures.resume();
    };
    upstream.on('response', (ures) => {
      if ((ures.statusCode ?? 502) < 500) return relay(ures);
      // An error answer: if a limit caused it, that is what the caller must hear. Asked only
      // here, so a healthy answer never waits for the check.
      ures.pause();
      const parked = () => {};
      ures.on('error', parked);
      void r.instance.violation().then(
        (violation) => {
          ures.off('error', parked);
          if (!violation) return resumeRelay(ures);
          ures.destroy();
          settle({ kind: 'limit', violation });
        },
        () => {
          ures.off('error', parked);
          resumeRelay(ures);
        },
      );
    });
    // Node hands a 101 only to 'upgrade' listeners; without one it drops the socket and the
    // request never settles (the caller hung past the function's timeout). Nothing was sent on.
    upstream.on('upgrade', (ures: IncomingMessage, socket: Duplex) => {
      socket.destroy();
      settle({ kind: 'upgrade', status: ures.statusCode ?? 101 });
    });
    upstream.on('error', (error) => settle({ kind: 'upstream_error', error, responseStarted: started }));
    upstream.end(r.body);
  });
}
