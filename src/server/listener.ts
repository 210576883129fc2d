/**
 * The HTTP listener: every request goes to the route table's pipeline; slow and malformed clients
 * are answered and logged (throttled) here, where Node reports them; a graceful stop refuses new
 * requests, lets the ones in flight finish within the grace period, then closes every connection.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KumoError, type LogThrottle, type ServerLog } from '../core/index.ts';
import { answerClientError, sendError } from '../http/index.ts';
import type { ServerConfig } from './config/index.ts';

/** What the listener needs. */
export interface ListenerDeps {
  config: ServerConfig;
  log: ServerLog;
  throttle: LogThrottle;
  /** Node's own header limit. */
  maxHeaderSize: number;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** A listening server. */
export interface Listener {
  url: string;
  port: number;
  /** Refuses new requests, waits (bounded) for those in flight, closes every connection. */
  drain(graceMs: number): Promise<void>;
}

/** Starts listening on the configured host and port. */
export async function listen(d: ListenerDeps): Promise<Listener> {
  const { config } = d;
  let accepting = true;
  let inflight = 0;
  let idle: (() => void) | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!accepting) {
      req.resume();
      sendError(res, new KumoError('shutting_down', 'kumo is shutting down'), { connection: 'close' });
      return;
    }
    inflight++;
    try {
      await d.handle(req, res);
    } catch (err) {
      d.log.error('request failed', { url: req.url, error: String(err) });
      sendError(res, err);
    } finally {
      if (--inflight === 0) idle?.();
    }
  };
  const server = http.createServer(
    {
      keepAliveTimeout: 65_000,
      // Headers, then headers and body, must arrive in time: slow clients cannot hold a connection and its buffers.
      headersTimeout: config.limits.headersTimeoutMs,
      requestTimeout: config.limits.requestTimeoutMs,
      // Node looks for late requests this often (30 s by default, which would stretch every timeout).
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1000, Math.floor(config.limits.headersTimeoutMs / 4)),
      ),
      maxHeaderSize: d.maxHeaderSize,
    },
    (req, res) => void handle(req, res),
  );
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) =>
    logClientError(d, answerClientError(err, socket), socket),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // SO_REUSEPORT: several kumo processes on one machine listen on one port; the kernel spreads
    // the connections between them (Linux 3.9+), so N processes use N cores.
    server.listen({ port: config.port, host: config.host, reusePort: config.cluster.reusePort }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const drain = async (graceMs: number) => {
    accepting = false;
    server.close();
    server.closeIdleConnections();
    if (inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    server.closeAllConnections();
  };
  return { url, port, drain };
}

/** A slow or malformed client, answered by answerClientError: one throttled line about it. */
function logClientError(d: ListenerDeps, kind: string | undefined, socket: Socket): void {
  const remote = socket.remoteAddress ?? null;
  if (kind === 'headers_timeout' || kind === 'body_timeout') {
    const headers = kind === 'headers_timeout';
    d.throttle.warn(
      kind,
      `request_timeout: a client was too slow sending its request ${headers ? 'headers' : 'body'}; answered 408 and closed`,
      { remote, timeoutMs: headers ? d.config.limits.headersTimeoutMs : d.config.limits.requestTimeoutMs },
    );
  } else if (kind) d.throttle.warn(kind, `refused a malformed request (${kind})`, { remote });
}
