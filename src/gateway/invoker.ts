/**
 * The Invoker runs one invocation, whoever asked for it — a live HTTP request (gateway.ts, the
 * compat routes), a queued one (the async queue, which cron feeds too): the function's active
 * version, the deadline over queueing and running, a pool lease, forwarding to the instance,
 * the classification of what went wrong (pool/failure.ts) and the summary that history and
 * metrics record. The caller says where the answer goes (a client's response or a buffer).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { HEADERS, KumoError, LogThrottle } from '../core/index.ts';
import type { Outcome, ServerLog, Trigger } from '../core/index.ts';
import {
  brokenLeaseFailure,
  limitFailure,
  type InstanceFailure,
  type InstancePool,
  type Lease,
  type PoolTarget,
} from '../pool/index.ts';
import type { QueueJob, QueueJobResult, QueueRunner } from '../queue/index.ts';
import type { ActiveVersions } from '../store/index.ts';
import type { InvocationTracker } from '../telemetry/index.ts';
import { BufferedResponse } from './buffered-response.ts';
import { endToEnd } from './headers.ts';
import { forward, poolFor, type BodyCapture, type ResponseSink } from './proxy.ts';

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
  /** The alias the call came through, when it came through one. */
  alias?: string | undefined;
}

/** What the Invoker needs. */
export interface InvokerOptions {
  versions: ActiveVersions;
  pool: InstancePool;
  tracker: InvocationTracker;
  log: ServerLog;
  /** The largest result a queued run keeps in memory. */
  bodyLimit: number;
  /** Largest function response body in bytes (cut off above). */
  responseLimit?: number;
  now?: () => number;
  /** Uniform in [0, 1): which version of a canary alias serves a call. */
  random?: () => number;
  onInvocation?: (summary: InvocationSummary) => void;
}

/** One invocation to run. */
export interface InvocationRequest {
  id: string;
  function: string;
  /** An alias or version number of the function (`live`, `3`); none: the active version. */
  qualifier?: string | null | undefined;
  trigger: Trigger;
  attempt: number;
  method: string;
  path: string;
  /** The headers the function sees (kumo's own are added when forwarding). */
  headers: OutgoingHttpHeaders;
  /** The body, or how to read it once the function is known (a live request's may fail: 413, 503). */
  body: Buffer | (() => Promise<Buffer>);
  /** When the request arrived: the deadline counts from here. */
  startedAt: number;
}

/** Where the answer of an invocation goes. */
export interface Answer {
  sink: ResponseSink;
  /** Answers with an error (the client's response, or the buffered result); returns it as a KumoError. */
  fail: (err: unknown) => KumoError;
  /** What of the response to keep for the history, given the function's settings. */
  capture?: (target: PoolTarget) => BodyCapture | undefined;
  /** Bytes of the response the sink keeps in memory (a queued run's stored result). */
  keptBytes?: () => number;
}

/** How a run ended. */
export interface RunResult {
  status: number;
  outcome: Outcome;
  cold: boolean;
  responseHeaders?: OutgoingHttpHeaders;
  error?: KumoError;
}

/** Runs invocations; also the async queue's runner. */
export class Invoker implements QueueRunner {
  private readonly o: Required<InvokerOptions>;
  private readonly throttle: LogThrottle;

  constructor(options: InvokerOptions) {
    this.o = {
      now: Date.now,
      onInvocation: () => {},
      random: Math.random,
      responseLimit: 20 * 1024 * 1024,
      ...options,
    };
    this.throttle = new LogThrottle(this.o.log);
  }

  /**
   * Runs `inv`, answering through `answer`, and records its summary. Resolves with the version it
   * ran (undefined when no function of that name is deployed: answered 404, nothing recorded) and
   * the result. Never rejects.
   */
  async invoke(
    inv: InvocationRequest,
    answer: Answer,
  ): Promise<{ target: PoolTarget | undefined; result: RunResult; body: Buffer }> {
    let serving;
    try {
      const found = this.o.versions.serving(inv.function, inv.qualifier ?? undefined, this.o.random());
      serving = found instanceof Promise ? await found : found;
      if (!serving)
        throw new KumoError(
          'function_not_found',
          `no function named '${inv.function}' is deployed (see kumo list)`,
        );
    } catch (err) {
      const error = answer.fail(err);
      return {
        target: undefined,
        result: { status: error.status, outcome: 'rejected', cold: false, error },
        body: Buffer.alloc(0),
      };
    }
    const { target, alias } = serving;
    const capture = answer.capture?.(target);
    let body: Buffer = Buffer.alloc(0);
    let result: RunResult;
    try {
      body = typeof inv.body === 'function' ? await inv.body() : inv.body;
      if (target.unavailable !== undefined)
        throw new KumoError(
          'build_unavailable',
          `this node could not fetch the code of version ${target.version} of '${target.functionName}' (${target.unavailable}): retry, or call another node`,
        );
      result = await this.run(inv, target, body, answer, capture, alias !== null);
    } catch (err) {
      const error = answer.fail(err);
      result = { status: error.status, outcome: 'rejected', cold: false, error };
    }
    this.o.onInvocation({
      id: inv.id,
      function: target.functionName,
      version: target.version,
      trigger: inv.trigger,
      attempt: inv.attempt,
      startedAt: inv.startedAt,
      durationMs: this.o.now() - inv.startedAt,
      method: inv.method,
      path: inv.path,
      requestHeaders: inv.headers,
      requestBody: body,
      response: capture,
      ...(answer.keptBytes ? { responseSize: answer.keptBytes() } : {}),
      bodies: target.spec.history?.bodies !== false,
      alias: alias ?? undefined,
      ...result,
      responseHeaders: result.responseHeaders,
      error: result.error,
    });
    return { target, result, body };
  }

  /** Runs a queued invocation on the same path as a live one, keeping the response in memory. */
  async runQueued(job: QueueJob): Promise<QueueJobResult> {
    const startedAt = this.o.now();
    const sink = new BufferedResponse(this.o.bodyLimit);
    const idHeader = { [HEADERS.invocationId]: job.id };
    const { target, result } = await this.invoke(
      {
        id: job.id,
        function: job.function,
        qualifier: job.alias,
        trigger: job.trigger,
        attempt: job.attempt,
        method: job.request.method,
        path: job.request.path,
        // The function may tell a queued run from a live one (ShortedFaaS's code defaults to 202 there).
        headers: { ...job.request.headers, [HEADERS.trigger]: job.trigger },
        body: job.body,
        startedAt,
      },
      { sink, fail: (err) => sink.fail(err, idHeader), keptBytes: () => sink.capture.size },
    );
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(sink.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    return {
      version: target?.version ?? null,
      status: sink.status,
      headers,
      body: sink.body(),
      truncated: sink.capture.truncated,
      outcome: result.outcome,
      cold: result.cold,
      startedAt,
      finishedAt: this.o.now(),
      error: result.error ? { code: result.error.code, message: result.error.message } : null,
    };
  }

  /** Deadline, pool slot, forward, classification; every failure is answered through `answer.fail`. */
  private async run(
    inv: InvocationRequest,
    target: PoolTarget,
    body: Buffer,
    answer: Answer,
    capture: BodyCapture | undefined,
    pinned: boolean,
  ): Promise<RunResult> {
    const { timeout } = target.spec;
    const deadline = inv.startedAt + timeout;
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new KumoError(
            'deadline_exceeded',
            `function '${target.functionName}' did not answer within its timeout of ${timeout}ms`,
          ),
        ),
      Math.max(0, deadline - this.o.now()),
    );
    let lease: Lease | undefined;
    try {
      lease = await this.o.pool.acquire(target, controller.signal, pinned);
      this.o.tracker.begin(lease.instance.id, inv.id);
      return {
        ...(await this.proxy(inv, target, body, deadline, answer, capture, lease, controller.signal)),
        cold: lease.cold,
      };
    } catch (err) {
      const error = answer.fail(controller.signal.aborted ? controller.signal.reason : err);
      if (error.code === 'internal_error')
        this.o.log.error('invocation failed', {
          id: inv.id,
          function: target.functionName,
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
      if (lease) this.o.tracker.end(lease.instance.id, inv.id);
    }
  }

  private async proxy(
    inv: InvocationRequest,
    target: PoolTarget,
    body: Buffer,
    deadline: number,
    answer: Answer,
    capture: BodyCapture | undefined,
    lease: Lease,
    signal: AbortSignal,
  ): Promise<Omit<RunResult, 'cold'>> {
    const { id } = inv;
    const outcome = await forward(
      {
        instance: lease.instance,
        pool: poolFor(lease.instance, target.spec.concurrency),
        method: inv.method,
        path: inv.path,
        headers: {
          ...inv.headers,
          [HEADERS.invocationId]: id,
          [HEADERS.deadline]: String(deadline),
          [HEADERS.attempt]: String(inv.attempt),
        },
        body,
        responseHeaders: { [HEADERS.invocationId]: id, 'x-kumo-version': String(target.version) },
        filterResponseHeaders: (h) => endToEnd(h, false),
        signal,
        capture,
        responseLimit: this.o.responseLimit,
      },
      answer.sink,
    );
    const failed = (code: KumoError['code'], message: string, outcomeOf: Outcome) => {
      const error = answer.fail(new KumoError(code, message));
      return { status: error.status, outcome: outcomeOf, error };
    };
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
      return failed(
        'response_too_large',
        `function '${target.functionName}' answered with more than the response limit of ${outcome.limit} bytes`,
        'error',
      );
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
      return failed(
        'upgrade_not_supported',
        `function '${target.functionName}' answered ${outcome.status} Switching Protocols; kumo does not proxy upgraded connections (WebSocket)`,
        'error',
      );
    }
    if (outcome.kind === 'limit') {
      lease.discard();
      return this.failure(limitFailure(target, outcome.violation), answer, f);
    }
    if (signal.aborted) {
      // Its code may still be running: the instance is replaced, but the other requests it
      // serves (concurrency above 1) finish first rather than fail with it (pool: Lease.retire).
      lease.retire();
      this.o.log.warn('function timed out; instance replaced once its other requests end', f);
      return { status: 504, outcome: 'timeout', error: answer.fail(signal.reason) };
    }
    // The connection broke: the pool tells why from the driver's evidence.
    return this.failure(await brokenLeaseFailure(lease, target), answer, f);
  }

  /** Answers and logs an instance failure. */
  private failure(
    failure: InstanceFailure,
    answer: Answer,
    fields: Record<string, string | number>,
  ): Omit<RunResult, 'cold'> {
    this.o.log[failure.log.level](failure.log.message, { ...fields, ...failure.log.fields });
    const error = answer.fail(new KumoError(failure.code, failure.message));
    return { status: failure.status, outcome: failure.outcome, error };
  }
}
