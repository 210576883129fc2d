/**
 * Part of the composition root: builds the history, metrics, durable queue,
 * callbacks and scheduler, and gives server.ts the few hooks it wires (gateway intake and
 * invocation summaries, control API routes, the /metrics and /invocations/ID routes, start and stop).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AsyncConfig } from './config/async.ts';
import type { InvocationRoutesDeps } from '../api/routes/invocations.ts';
import {
  defaultAsyncConcurrency,
  LogThrottle,
  redactHeaders,
  type InvocationRecord,
  type ServerLog,
} from '../core/index.ts';
import type { BodyBudget, Route } from '../http/index.ts';
import { QueueIntake, serveResult, type InvocationSummary } from '../gateway/index.ts';
import type { InstancePool } from '../pool/index.ts';
import {
  AsyncQueue,
  CallbackDispatcher,
  CallbackPolicy,
  type FunctionQueueSettings,
  type QueueRunner,
} from '../queue/index.ts';
import { Scheduler } from '../scheduler/index.ts';
import type {
  ActiveVersions,
  ClusterStore,
  InvocationStore,
  QueueStore,
  ScheduleStore,
} from '../store/index.ts';
import { LeaderLease, type StoreHealth } from '../cluster/index.ts';
import { HistoryRecorder, Metrics } from '../telemetry/index.ts';

/** What the async parts need from the server. */
export interface AsyncPartsDeps {
  config: AsyncConfig;
  stores: { invocations: InvocationStore; queue: QueueStore; schedules: ScheduleStore };
  versions: ActiveVersions;
  pool: InstancePool;
  log: ServerLog;
  bodyLimit: number;
  /** Bytes of bodies being held in memory over all requests. */
  bodyBudget: BodyBudget;
  /** Names of the deployed functions. */
  functions: () => string[];
  /** Runs a queued invocation (the gateway's buffered path). */
  runner: QueueRunner;
  /** Whether `req` may read a result of function `fn`; false when the refusal was sent. */
  admitResult: (req: IncomingMessage, res: ServerResponse, fn: string) => Promise<boolean>;
  /** This node: its id (recorded on each run), the async lease, and whether other nodes share the store. */
  node: { id: string; visibilityTimeoutMs: number; shared: boolean; leaderLeaseMs: number };
  /** The shared state of the nodes (the scheduler's leader lease). */
  cluster: ClusterStore;
  /** Whether the store answers (the intake refuses while it does not). */
  health: StoreHealth;
  /** A schedule of `fn` was added or removed through this node's API (the other nodes are told). */
  onScheduleChange?: (fn: string) => void;
}

/** The built parts and their hooks. */
export type AsyncParts = ReturnType<typeof createAsyncParts>;

/** Builds the queue, callbacks, scheduler, history and metrics. */
export function createAsyncParts(d: AsyncPartsDeps) {
  const { config, log } = d;
  const { invocations, queue: queueStore } = d.stores;
  const metrics = new Metrics();
  const historyThrottle = new LogThrottle(log);
  const history = new HistoryRecorder(invocations, {
    maxPerFunction: config.historyMax,
    maxAgeMs: config.historyAgeMs,
    maxBodyBytes: config.historyMaxBytes,
    onError: (err) => {
      historyThrottle.warn('history', 'history: writing failed; the records are held and written again', {
        error: String(err),
      });
    },
  });
  const policy = new CallbackPolicy(config.callbackAllow);
  const callbacks = new CallbackDispatcher({
    invocations,
    queue: queueStore,
    policy,
    log,
    maxAttempts: config.callbackAttempts,
    timeoutMs: config.callbackTimeoutMs,
    concurrency: config.callbackConcurrency,
    perDestination: config.callbackPerHost,
    onResult: (r) => metrics.observeCallback(r),
  });
  const settings = queueSettings(d);
  const { queue, scheduler } = createQueue(d, metrics, settings, () => callbacks.wake());
  const unfollow = d.versions.onChange((fn) => void scheduler.functionChanged(fn));
  const leader = schedulerLeader(d, scheduler);
  const intake = new QueueIntake({
    versions: d.versions,
    queue,
    policy,
    bodyLimit: Math.min(config.asyncBodyLimit, d.bodyLimit),
    bodyBudget: d.bodyBudget,
    log,
  });
  const apiDeps: InvocationRoutesDeps = {
    invocations,
    queue: queueStore,
    scheduler,
    flushHistory: () => history.flush(),
    wakeQueue: () => queue.wake(),
    retries: (fn) => settings(fn)?.retries ?? 2,
    bodyLimit: Math.max(config.historyBodyLimit, 1024),
    now: Date.now,
  };
  return {
    intake,
    /** The durable queue (the Lambda API's Event invocations enqueue here). */
    queue,
    apiDeps,
    onInvocation: recordInvocation(config, metrics, history, d.node.id),
    routes: resultAndMetricsRoutes(d, metrics, history),
    historyBodyLimit: config.telemetry ? config.historyBodyLimit : 0,
    /** Whether this node runs the schedules (always on SQLite; the lease holder among several nodes). */
    isLeader: () => leader?.isLeader ?? true,
    /** Recovers interrupted runs, then starts the worker, the callbacks and the schedules. */
    async start(): Promise<void> {
      await queue.start();
      callbacks.start();
      if (leader) await leader.start();
      else await scheduler.start(d.functions());
    },
    /** Stops taking work and waits (bounded) for runs and deliveries in flight. */
    async stop(graceMs: number): Promise<void> {
      if (leader) await leader.stop();
      scheduler.stop();
      unfollow();
      await Promise.all([queue.stop(graceMs), callbacks.stop(Math.min(graceMs, 2000))]);
    },
    /** Writes what is buffered; call before the stores close. */
    close(): Promise<void> {
      return history.close();
    },
  };
}

/**
 * On a shared store, the schedules run on one node: the holder of the `scheduler` lease. It
 * starts the scheduler when it gains the lease (after another leader: running the recent ticks
 * nobody queued; at the first try of a node that found no leader: by each catch-up policy, as a
 * lone node's restart) and stops it when it loses the lease.
 */
function schedulerLeader(d: AsyncPartsDeps, scheduler: Scheduler): LeaderLease | undefined {
  if (!d.node.shared) return undefined;
  return new LeaderLease({
    store: d.cluster,
    name: 'scheduler',
    owner: d.node.id,
    ttlMs: d.node.leaderLeaseMs,
    log: d.log,
    onGain: (gain) => scheduler.start(d.functions(), gain),
    onLose: () => scheduler.stop(),
  });
}

/** A function's queue settings, from its active version. */
function queueSettings(d: AsyncPartsDeps) {
  return (fn: string): FunctionQueueSettings | undefined => {
    const spec = d.versions.get(fn)?.spec;
    if (!spec) return undefined;
    return {
      concurrency: spec.async?.concurrency ?? defaultAsyncConcurrency(spec),
      retries: spec.retries ?? 2,
      timeoutMs: spec.timeout,
      bodies: spec.history?.bodies !== false,
    };
  };
}

/** The durable queue (its runs go through the Invoker) and the scheduler that feeds it. */
function createQueue(
  d: AsyncPartsDeps,
  metrics: Metrics,
  settings: (fn: string) => FunctionQueueSettings | undefined,
  wakeCallbacks: () => void,
) {
  const { config, log } = d;
  const throttle = new LogThrottle(log);
  const queue = new AsyncQueue({
    store: d.stores.queue,
    runner: d.runner,
    settings,
    log,
    workers: config.workers,
    backoffMs: config.retryBackoffMs,
    onStart: (lag) => metrics.observeAsyncLag(lag),
    onCallbackDue: wakeCallbacks,
    keepRequestBytes: config.historyBodyLimit,
    maxPerFunction: config.queueMax,
    maxTotal: config.queueMaxTotal,
    nodeId: d.node.id,
    visibilityTimeoutMs: d.node.visibilityTimeoutMs,
    shared: d.node.shared,
    storeDown: () => !d.health.healthy,
    onStoreError: (err) => d.health.failed(err),
    onFull: (fn, scope, depth) =>
      throttle.warn(
        `queue_full:${scope === 'total' ? '*' : fn}`,
        'async request refused with 429: the queue is full',
        {
          function: fn,
          scope,
          depth,
        },
      ),
  });
  const scheduler = new Scheduler({
    store: d.stores.schedules,
    queue: d.stores.queue,
    enqueueTick: (input, tickKey) => queue.enqueueTick(input, tickKey),
    manifestSchedules: (fn) => {
      const spec = d.versions.get(fn)?.spec;
      return spec ? (spec.schedule ?? []) : undefined;
    },
    log,
    onTick: (fn, result) => metrics.observeTick(fn, result),
    ...(d.onScheduleChange ? { onChanged: d.onScheduleChange } : {}),
    ...(d.node.shared
      ? {
          // A new leader runs what fell due while the lease passed (its length and a try interval, twice over).
          takeoverWindowMs: 3 * d.node.leaderLeaseMs,
        }
      : {}),
  });
  return { queue, scheduler };
}

/** Every finished run: counted in metrics; a sync one also goes to the history (the queue records its own). */
function recordInvocation(config: AsyncConfig, metrics: Metrics, history: HistoryRecorder, node: string) {
  return (s: InvocationSummary): void => {
    if (s.trigger === 'http' && !config.telemetry) return;
    metrics.observeInvocation(s);
    if (s.trigger === 'http') {
      const record = { ...syncRecord(s, config.historyBodyLimit), node };
      history.record(record);
      history.written(
        s.function,
        (record.requestBody?.length ?? 0) +
          (record.responseBody?.length ?? 0) +
          headerBytes(s.requestHeaders) +
          headerBytes(s.responseHeaders),
      );
      return;
    }
    // The queue stores its own rows: the result, and the request (cut to the body limit once it succeeded).
    // A run that may be retried is counted once its row is final (its last attempt is one such run).
    const request =
      s.outcome === 'ok' && s.status < 400
        ? Math.min(s.requestBody.length, config.historyBodyLimit)
        : s.outcome === 'ok'
          ? s.requestBody.length
          : 0;
    history.written(
      s.function,
      request + (s.responseSize ?? 0) + headerBytes(s.requestHeaders) + headerBytes(s.responseHeaders),
    );
  };
}

/** GET /metrics and GET /invocations/:id. */
function resultAndMetricsRoutes(d: AsyncPartsDeps, metrics: Metrics, history: HistoryRecorder): Route[] {
  const { invocations, queue: queueStore } = d.stores;
  const serveMetrics = async (res: ServerResponse): Promise<void> => {
    const body = metrics.render({
      instances: d.functions().map((fn) => ({ function: fn, ...d.pool.stats(fn) })),
      queue: await queueStore.queueDepth(),
      oldestReadyAgeMs: ageOf(await queueStore.oldestReady(Date.now())),
    });
    res.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };
  return [
    {
      method: 'GET',
      path: '/metrics',
      scope: 'read',
      tag: 'server',
      summary: 'Prometheus metrics (text format 0.0.4)',
      handler: ({ req, res }) => {
        req.resume();
        return serveMetrics(res);
      },
    },
    {
      method: 'GET',
      path: '/invocations/:id',
      scope: 'result',
      tag: 'invoke',
      summary:
        "An async invocation's result: 202 while queued or running, then the function's status, headers and body",
      handler: async ({ req, res, params, query }) => {
        req.resume();
        await history.flush();
        const expected = query.get('function') ?? undefined;
        await serveResult(res, invocations, params.id ?? '', expected, (fn) => d.admitResult(req, res, fn));
      },
    },
  ];
}

/** About the bytes `headers` take when stored (a request may carry up to --header-limit of them). */
function headerBytes(headers: OutgoingHttpHeaders | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers ?? {})) n += k.length + String(v).length + 6;
  return n;
}

function ageOf(t: number | undefined): number {
  return t === undefined ? 0 : Math.max(0, Date.now() - t);
}

/** The history record of a finished sync request. */
function syncRecord(s: InvocationSummary, limit: number): InvocationRecord {
  const requestBody = s.bodies && limit > 0 && s.requestBody.length ? s.requestBody.subarray(0, limit) : null;
  let responseBody: Buffer | null = null;
  let responseTruncated = false;
  if (s.bodies && limit > 0) {
    if (s.error) responseBody = Buffer.from(JSON.stringify(s.error.toBody()));
    else if (s.response && s.response.size) {
      responseBody =
        s.response.chunks.length === 1
          ? (s.response.chunks[0] as Buffer)
          : Buffer.concat(s.response.chunks, s.response.size);
      responseTruncated = s.response.truncated;
    }
  }
  return {
    id: s.id,
    function: s.function,
    version: s.version,
    trigger: 'http',
    status: s.outcome === 'ok' && s.status < 400 ? 'succeeded' : 'failed',
    attempt: 1,
    maxAttempts: 1,
    statusCode: s.status,
    outcome: s.outcome,
    cold: s.cold,
    createdAt: s.startedAt,
    startedAt: s.startedAt,
    finishedAt: s.startedAt + s.durationMs,
    durationMs: s.durationMs,
    runAt: null,
    scheduleId: null,
    request: { method: s.method, path: s.path, headers: redactHeaders(s.requestHeaders) },
    requestBody,
    requestTruncated: requestBody !== null && requestBody.length < s.requestBody.length,
    responseHeaders: s.responseHeaders
      ? redactHeaders(s.responseHeaders)
      : s.error
        ? { 'content-type': 'application/json; charset=utf-8' }
        : null,
    responseBody,
    responseTruncated,
    error: s.error ? { code: s.error.code, message: s.error.message } : null,
    callback: null,
    bodiesKept: s.bodies,
    alias: s.alias ?? null,
  };
}
