/**
 * The data plane: one invocation from the request to the function's response, with the function's
 * deadline over all of it (queueing included), crash and memory-kill classification, and the
 * invocation id on the request, the response and the log lines. The same run path serves a live
 * HTTP request (streamed to the client) and a buffered one from the async queue (kept in memory).
 */
import type { QueueJob, QueueJobResult } from '../queue/index.ts';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { KumoError, LogThrottle } from '../core/index.ts';
import type { Outcome, ServerLog, Trigger } from '../core/index.ts';
import type { ExitInfo, LimitViolation } from '../drivers/index.ts';
import { readBody, sendError, type BodyBudget } from '../http/index.ts';
import type { InstancePool, Lease, PoolTarget } from '../pool/index.ts';
import type { ActiveVersions } from '../store/index.ts';
import type { InvocationTracker } from '../telemetry/index.ts';
import { BufferedResponse } from './buffered-response.ts';
import { endToEnd } from './headers.ts';
import { agentFor, forward, type BodyCapture, type ResponseSink } from './proxy.ts';
import type { FunctionRoute } from './route.ts';

/** One finished run, for history and metrics. */
export interface InvocationSummary {
  id: string;
  function: string;
  version: number;
  trigger: Trigger;
  attempt: number;
  status: number;
  outcome: Outcome;
  cold: boolean;
  startedAt: number;
  durationMs: number;
  method: string;
  path: string;
  requestHeaders: OutgoingHttpHeaders;
  requestBody: Buffer;
  responseHeaders: OutgoingHttpHeaders | undefined;
  /** The first bytes of the response body, when the history keeps bodies. */
  response: BodyCapture | undefined;
  /** Bytes of the response kept in memory by a queued run (its stored result). */
  responseSize?: number;
  /** False when the function's history must not keep bodies (`history.bodies: false`). */
  bodies: boolean;
  error: KumoError | undefined;
}

/** An invocation from the queue, run without a client attached: the queue's job shape. */
export type BufferedInvocation = QueueJob;

/** What an async run produced: the queue's result shape (version is null when the function is gone). */
export type BufferedResult = QueueJobResult;

/** Takes requests with `Prefer: respond-async` (or under /async/fn/) into the durable queue. */
export interface AsyncIntake {
  accept(req: IncomingMessage, res: ServerResponse, route: FunctionRoute): Promise<void>;
}

/** What the gateway needs. */
export interface GatewayOptions {
  versions: ActiveVersions;
  pool: InstancePool;
  tracker: InvocationTracker;
  log: ServerLog;
  /** Largest request body in bytes (413 above), and the largest async result kept. */
  bodyLimit: number;
  /** Bytes of bodies being held in memory over all requests (503 server_busy when full). */
  bodyBudget?: BodyBudget | undefined;
  /** Largest function response body in bytes (cut off above). */
  responseLimit?: number;
  /** Bytes of a sync response body kept for the history (0: none). */
  historyBodyLimit?: number;
  /** Async requests go here; without it they are refused. */
  intake?: AsyncIntake | undefined;
  now?: () => number;
  newInvocationId?: () => string;
  onInvocation?: (summary: InvocationSummary) => void;
}

/** How long to wait for an instance's exit status after its connection broke. */
const EXIT_GRACE_MS = 500;

/** One run on the shared path. */
interface RunCall {
  id: string;
  target: PoolTarget;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  attempt: number;
  deadline: number;
  sink: ResponseSink;
  capture: BodyCapture | undefined;
  /** Answers with an error (the client's response, or the buffered result). */
  fail: (err: unknown) => KumoError;
}

interface RunResult {
  status: number;
  outcome: Outcome;
  cold: boolean;
  responseHeaders?: OutgoingHttpHeaders;
  error?: KumoError;
}

/** Serves function invocations. */
export class Gateway {
  private readonly o: Required<Omit<GatewayOptions, 'intake' | 'bodyBudget'>> &
    Pick<GatewayOptions, 'intake' | 'bodyBudget'>;
  private readonly throttle: LogThrottle;

  constructor(options: GatewayOptions) {
    this.o = {
      now: Date.now,
      newInvocationId: randomUUID,
      onInvocation: () => {},
      historyBodyLimit: 0,
      responseLimit: 20 * 1024 * 1024,
      intake: undefined,
      ...options,
    };
    this.throttle = new LogThrottle(this.o.log);
  }

  /** Invokes the function `route` names with `req`, answering on `res`. Never rejects. */
  async invoke(
    req: IncomingMessage,
    res: ServerResponse,
    route: FunctionRoute,
    forceAsync = false,
  ): Promise<void> {
    if (forceAsync || wantsAsync(req)) {
      if (this.o.intake) return this.o.intake.accept(req, res, route);
      req.resume();
      sendError(res, new KumoError('bad_request', 'async invocations are not enabled on this server'));
      return;
    }
    const startedAt = this.o.now();
    const id = this.o.newInvocationId();
    const idHeader = { 'x-kumo-invocation-id': id };
    const target = this.o.versions.get(route.name);
    if (!target) {
      req.resume();
      sendError(
        res,
        new KumoError('function_not_found', `no function named '${route.name}' is deployed (see kumo list)`),
        idHeader,
      );
      return;
    }
    const bodies = target.spec.history?.bodies !== false;
    const capture =
      bodies && this.o.historyBodyLimit > 0
        ? { limit: this.o.historyBodyLimit, chunks: [], size: 0, truncated: false }
        : undefined;
    const headers = forwardedHeaders(req);
    const method = req.method ?? 'GET';
    let body: Buffer = Buffer.alloc(0);
    let result: RunResult;
    try {
      body = await readBody(req, this.o.bodyLimit, 'request body', { res, budget: this.o.bodyBudget });
      result = await this.run({
        id,
        target,
        method,
        path: route.path,
        headers,
        body,
        attempt: 1,
        deadline: startedAt + target.spec.timeout,
        sink: res,
        capture,
        fail: (err) => sendError(res, err, idHeader),
      });
    } catch (err) {
      const error = sendError(res, err, idHeader);
      result = { status: error.status, outcome: 'rejected', cold: false, error };
    }
    this.o.onInvocation({
      id,
      function: target.functionName,
      version: target.version,
      trigger: 'http',
      attempt: 1,
      startedAt,
      durationMs: this.o.now() - startedAt,
      method,
      path: route.path,
      requestHeaders: headers,
      requestBody: body,
      response: capture,
      bodies,
      ...result,
      responseHeaders: result.responseHeaders,
      error: result.error,
    });
  }

  /** Runs a queued invocation on the same path as a live one, keeping the response in memory. Never rejects. */
  async invokeBuffered(job: BufferedInvocation): Promise<BufferedResult> {
    const startedAt = this.o.now();
    const idHeader = { 'x-kumo-invocation-id': job.id };
    const sink = new BufferedResponse(this.o.bodyLimit);
    const target = this.o.versions.get(job.function);
    if (!target) {
      const error = sink.fail(
        new KumoError(
          'function_not_found',
          `no function named '${job.function}' is deployed (see kumo list)`,
        ),
        idHeader,
      );
      return {
        version: null,
        ...bufferedOut(sink),
        outcome: 'rejected',
        cold: false,
        startedAt,
        finishedAt: this.o.now(),
        error: { code: error.code, message: error.message },
      };
    }
    const result = await this.run({
      id: job.id,
      target,
      method: job.request.method,
      path: job.request.path,
      // The function may tell a queued run from a live one (ShortedFaaS's code defaults to 202 there).
      headers: { ...job.request.headers, 'x-kumo-trigger': job.trigger },
      body: job.body,
      attempt: job.attempt,
      deadline: startedAt + target.spec.timeout,
      sink,
      capture: undefined,
      fail: (err) => sink.fail(err, idHeader),
    });
    const finishedAt = this.o.now();
    this.o.onInvocation({
      id: job.id,
      function: target.functionName,
      version: target.version,
      trigger: job.trigger,
      attempt: job.attempt,
      startedAt,
      durationMs: finishedAt - startedAt,
      method: job.request.method,
      path: job.request.path,
      requestHeaders: job.request.headers,
      requestBody: job.body,
      response: undefined,
      responseSize: sink.capture.size,
      bodies: target.spec.history?.bodies !== false,
      ...result,
      responseHeaders: result.responseHeaders,
      error: result.error,
    });
    const error = result.error ? { code: result.error.code, message: result.error.message } : null;
    return {
      version: target.version,
      ...bufferedOut(sink),
      outcome: result.outcome,
      cold: result.cold,
      startedAt,
      finishedAt,
      error,
    };
  }

  /** The shared path: deadline, pool slot, forward, classification. Never rejects. */
  private async run(c: RunCall): Promise<RunResult> {
    const { timeout } = c.target.spec;
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new KumoError(
            'deadline_exceeded',
            `function '${c.target.functionName}' did not answer within its timeout of ${timeout}ms`,
          ),
        ),
      Math.max(0, c.deadline - this.o.now()),
    );
    let lease: Lease | undefined;
    try {
      lease = await this.o.pool.acquire(c.target, controller.signal);
      this.o.tracker.begin(lease.instance.id, c.id);
      return { ...(await this.proxy(c, lease, controller.signal)), cold: lease.cold };
    } catch (err) {
      const error = c.fail(controller.signal.aborted ? controller.signal.reason : err);
      if (error.code === 'internal_error')
        this.o.log.error('invocation failed', {
          id: c.id,
          function: c.target.functionName,
          error: String(err),
        });
      return {
        status: error.status,
        outcome: error.code === 'deadline_exceeded' ? 'timeout' : 'rejected',
        cold: lease?.cold ?? false,
        error,
      };
    } finally {
      clearTimeout(timer);
      if (lease) this.o.tracker.end(lease.instance.id, c.id);
    }
  }

  /** An invocation that failed on a process or /tmp limit: logged, and answered with its own code. */
  private limitHit(
    c: RunCall,
    violation: LimitViolation,
    f: { function: string; version: number; id: string },
  ): Omit<RunResult, 'cold'> {
    const { code, what } = LIMIT_MESSAGES[violation];
    const name = c.target.functionName;
    this.o.log.error(`Function '${name}' aborted after exceeding ${what}`, f);
    const error = c.fail(
      new KumoError(code, `function '${name}' failed after exceeding ${what}; the instance was replaced`),
    );
    return { status: error.status, outcome: 'error', error };
  }

  private async proxy(c: RunCall, lease: Lease, signal: AbortSignal): Promise<Omit<RunResult, 'cold'>> {
    const { target, id } = c;
    const outcome = await forward(
      {
        instance: lease.instance,
        agent: agentFor(lease.instance, target.spec.concurrency),
        method: c.method,
        path: c.path,
        headers: {
          ...c.headers,
          'x-kumo-invocation-id': id,
          'x-kumo-deadline': String(c.deadline),
          'x-kumo-attempt': String(c.attempt),
        },
        body: c.body,
        responseHeaders: { 'x-kumo-invocation-id': id, 'x-kumo-version': String(target.version) },
        filterResponseHeaders: (h) => endToEnd(h, false),
        signal,
        capture: c.capture,
        responseLimit: this.o.responseLimit,
      },
      c.sink,
    );
    if (outcome.kind === 'done') {
      lease.release();
      return {
        status: outcome.status,
        outcome: outcome.status >= 500 ? 'error' : 'ok',
        responseHeaders: endToEnd(outcome.headers, false),
      };
    }
    if (outcome.kind === 'too_large') {
      // The instance is healthy; only this response was refused (or cut off mid-stream).
      lease.release();
      const error = c.fail(
        new KumoError(
          'response_too_large',
          `function '${target.functionName}' answered with more than the response limit of ${outcome.limit} bytes`,
        ),
      );
      return { status: error.status, outcome: 'error', error };
    }
    const f = { function: target.functionName, version: target.version, id };
    if (outcome.kind === 'upgrade') {
      // The function believes it holds an upgraded connection: replace the instance rather than reuse it.
      lease.discard();
      this.throttle.warn(
        `upgrade:${target.functionName}`,
        'function answered 101 Switching Protocols, which kumo does not proxy; instance replaced',
        f,
      );
      const error = c.fail(
        new KumoError(
          'upgrade_not_supported',
          `function '${target.functionName}' answered ${outcome.status} Switching Protocols; kumo does not proxy upgraded connections (WebSocket)`,
        ),
      );
      return { status: error.status, outcome: 'error', error };
    }
    if (outcome.kind === 'limit') {
      lease.discard();
      return this.limitHit(c, outcome.violation, f);
    }
    if (signal.aborted) {
      lease.discard();
      this.o.log.warn('function timed out; instance replaced', f);
      return { status: 504, outcome: 'timeout', error: c.fail(signal.reason) };
    }
    // The connection broke. Whether a limit was hit is read before the kill below, while the
    // instance's cgroup still exists (one that exited by itself says so in its exit info too).
    const violation = await lease.instance.violation().catch(() => undefined);
    lease.discard();
    const info = await exitInfo(lease, EXIT_GRACE_MS);
    if (info?.reason === 'memory_limit') {
      this.o.log.error(`Function '${target.functionName}' aborted after violating memory constraints`, f);
      const error = c.fail(
        new KumoError(
          'memory_limit_exceeded',
          `function '${target.functionName}' went over its memory limit of ${target.spec.memory} MB and was stopped`,
        ),
      );
      return { status: 500, outcome: 'memory_limit', error };
    }
    const limit =
      violation ??
      (info?.reason === 'process_limit' || info?.reason === 'tmp_limit' ? info.reason : undefined);
    if (limit) return this.limitHit(c, limit, f);
    this.o.log.warn('instance crashed during an invocation', {
      ...f,
      exit: info ? (info.signal ?? String(info.code)) : 'connection lost',
    });
    const error = c.fail(
      new KumoError(
        'instance_crashed',
        `function '${target.functionName}' crashed while handling the request (see kumo logs ${target.functionName})`,
      ),
    );
    return { status: 502, outcome: 'crash', error };
  }
}

/** What the caller and the server log are told when an invocation failed on a limit. */
const LIMIT_MESSAGES: Record<
  LimitViolation,
  { code: 'process_limit_exceeded' | 'tmp_limit_exceeded'; what: string }
> = {
  process_limit: { code: 'process_limit_exceeded', what: 'its process limit' },
  tmp_limit: { code: 'tmp_limit_exceeded', what: 'the size of its /tmp' },
};

/** `Prefer: respond-async` (RFC 7240) asks for the 202 path. */
function wantsAsync(req: IncomingMessage): boolean {
  const prefer = req.headers.prefer;
  return prefer !== undefined && /(^|[,;\s])respond-async($|[,;\s=])/i.test(String(prefer));
}

/** The client's headers as the function sees them: end-to-end only, kumo's own dropped, forwarding added. */
export function forwardedHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers = endToEnd(req.headers, true);
  const client = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for']
    ? `${String(req.headers['x-forwarded-for'])}, ${client}`
    : client;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  return headers;
}

function bufferedOut(
  sink: BufferedResponse,
): Pick<BufferedResult, 'status' | 'headers' | 'body' | 'truncated'> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(sink.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return { status: sink.status, headers, body: sink.body(), truncated: sink.capture.truncated };
}

/** The instance's exit status if it exits within `ms` (a broken connection usually means it died). */
async function exitInfo(lease: Lease, ms: number): Promise<ExitInfo | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([lease.instance.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
