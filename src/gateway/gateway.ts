/**
 * The data plane: one invocation from the client's request to the function's response, with the
 * function's deadline over all of it (queueing included), crash and memory-kill classification,
 * and the invocation id on the request, the response and the log lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { KumoError } from '../core/index.ts';
import type { ServerLog } from '../core/index.ts';
import type { ExitInfo } from '../drivers/index.ts';
import { readBody, sendError } from '../http/index.ts';
import type { InstancePool, Lease, PoolTarget } from '../pool/index.ts';
import type { ActiveVersions } from '../store/index.ts';
import type { InvocationTracker } from '../telemetry/index.ts';
import { endToEnd } from './headers.ts';
import { agentFor, forward } from './proxy.ts';
import type { FunctionRoute } from './route.ts';

/** One finished invocation, for logs, history and metrics. */
export interface InvocationSummary {
  id: string;
  function: string;
  version: number;
  status: number;
  outcome: 'ok' | 'error' | 'timeout' | 'crash' | 'memory_limit' | 'rejected';
  cold: boolean;
  startedAt: number;
  durationMs: number;
}

/** What the gateway needs. */
export interface GatewayOptions {
  versions: ActiveVersions;
  pool: InstancePool;
  tracker: InvocationTracker;
  log: ServerLog;
  /** Largest request body in bytes (413 above). */
  bodyLimit: number;
  now?: () => number;
  newInvocationId?: () => string;
  onInvocation?: (summary: InvocationSummary) => void;
}

/** How long to wait for an instance's exit status after its connection broke. */
const EXIT_GRACE_MS = 500;

/** Serves function invocations. */
export class Gateway {
  private readonly o: Required<GatewayOptions>;

  constructor(options: GatewayOptions) {
    this.o = {
      now: Date.now,
      newInvocationId: randomUUID,
      onInvocation: () => {},
      ...options,
    };
  }

  /** Invokes the function `route` names with `req`, answering on `res`. Never rejects. */
  async invoke(req: IncomingMessage, res: ServerResponse, route: FunctionRoute): Promise<void> {
    const startedAt = this.o.now();
    const id = this.o.newInvocationId();
    const idHeader = { 'x-kumo-invocation-id': id };
    const active = this.o.versions.get(route.name);
    if (!active) {
      req.resume();
      sendError(res, new KumoError('function_not_found', `no function named '${route.name}' is deployed (see kumo list)`), idHeader);
      return;
    }
    const target: PoolTarget = active;
    const { timeout } = target.spec;
    const deadline = startedAt + timeout;
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new KumoError('deadline_exceeded', `function '${route.name}' did not answer within its timeout of ${timeout}ms`),
        ),
      timeout,
    );
    let lease: Lease | undefined;
    let summary: Pick<InvocationSummary, 'status' | 'outcome'> = { status: 500, outcome: 'error' };
    try {
      const body = await readBody(req, this.o.bodyLimit);
      lease = await this.o.pool.acquire(target, controller.signal);
      this.o.tracker.begin(lease.instance.id, id);
      summary = await this.proxy(req, res, { target, lease, body, id, deadline, path: route.path, signal: controller.signal });
    } catch (err) {
      const error = sendError(res, controller.signal.aborted ? controller.signal.reason : err, idHeader);
      summary = { status: error.status, outcome: error.code === 'deadline_exceeded' ? 'timeout' : 'rejected' };
      if (error.code === 'internal_error') this.o.log.error('invocation failed', { id, function: route.name, error: String(err) });
    } finally {
      clearTimeout(timer);
      if (lease) this.o.tracker.end(lease.instance.id, id);
      this.o.onInvocation({
        id,
        function: target.functionName,
        version: target.version,
        cold: lease?.cold ?? false,
        startedAt,
        durationMs: this.o.now() - startedAt,
        ...summary,
      });
    }
  }

  private async proxy(
    req: IncomingMessage,
    res: ServerResponse,
    call: { target: PoolTarget; lease: Lease; body: Buffer; id: string; deadline: number; path: string; signal: AbortSignal },
  ): Promise<Pick<InvocationSummary, 'status' | 'outcome'>> {
    const { target, lease, body, id, deadline, signal } = call;
    const headers = endToEnd(req.headers, true);
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${client}` : client;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = 'http';
    headers['x-kumo-invocation-id'] = id;
    headers['x-kumo-deadline'] = String(deadline);
    const outcome = await forward(
      {
        instance: lease.instance,
        agent: agentFor(lease.instance, target.spec.concurrency),
        method: req.method ?? 'GET',
        path: call.path,
        headers,
        body,
        responseHeaders: { 'x-kumo-invocation-id': id, 'x-kumo-version': String(target.version) },
        filterResponseHeaders: (h) => endToEnd(h, false),
        signal,
      },
      res,
    );
    if (outcome.kind === 'done') {
      lease.release();
      return { status: outcome.status, outcome: outcome.status >= 500 ? 'error' : 'ok' };
    }
    lease.discard();
    if (signal.aborted) {
      this.o.log.warn('function timed out; instance replaced', { function: target.functionName, version: target.version, id });
      sendError(res, signal.reason, { 'x-kumo-invocation-id': id });
      return { status: 504, outcome: 'timeout' };
    }
    const info = await exitInfo(lease, EXIT_GRACE_MS);
    if (info?.reason === 'memory_limit') {
      this.o.log.error(`Function '${target.functionName}' aborted after violating memory constraints`, { version: target.version, id });
      sendError(
        res,
        new KumoError('memory_limit_exceeded', `function '${target.functionName}' went over its memory limit of ${target.spec.memory} MB and was stopped`),
        { 'x-kumo-invocation-id': id },
      );
      return { status: 500, outcome: 'memory_limit' };
    }
    this.o.log.warn('instance crashed during an invocation', {
      function: target.functionName,
      version: target.version,
      id,
      exit: info ? (info.signal ?? String(info.code)) : 'connection lost',
    });
    sendError(
      res,
      new KumoError('instance_crashed', `function '${target.functionName}' crashed while handling the request (see kumo logs ${target.functionName})`),
      { 'x-kumo-invocation-id': id },
    );
    return { status: 502, outcome: 'crash' };
  }
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
