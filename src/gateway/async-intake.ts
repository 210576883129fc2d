/**
 * The async front door: `Prefer: respond-async` on a function URL, or `/async/fn/NAME/…`. The
 * request is checked (function, body size, callback URL), stored in the durable queue, and only
 * then answered `202 {id}` with `Location: /invocations/ID`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADERS, KumoError, LogThrottle, type ServerLog } from '../core/index.ts';
import { readBody, sendError, sendJson, type BodyBudget } from '../http/index.ts';
import type { AsyncQueue, CallbackPolicy } from '../queue/index.ts';
import type { ActiveVersions } from '../store/index.ts';
import type { AsyncIntake } from './gateway.ts';
import { forwardedHeaders } from './gateway.ts';
import type { FunctionRoute } from './route.ts';

/** Longest X-Task-Token kept. */
const MAX_TASK_TOKEN = 2048;
/** Request headers that steer kumo and are not passed to the function. */
const CONTROL_HEADERS = ['prefer', 'x-callback-url', 'x-task-token'];

/** What the intake needs. */
export interface QueueIntakeOptions {
  versions: ActiveVersions;
  queue: AsyncQueue;
  policy: CallbackPolicy;
  /** Largest async body (bytes): smaller than the sync limit, since every accepted body is stored. */
  bodyLimit: number;
  /** Bytes of bodies being held in memory over all requests (503 server_busy when full). */
  bodyBudget?: BodyBudget | undefined;
  log: ServerLog;
}

/** Accepts async invocations into the queue. */
export class QueueIntake implements AsyncIntake {
  private readonly o: QueueIntakeOptions;
  private readonly throttle: LogThrottle;

  constructor(options: QueueIntakeOptions) {
    this.o = options;
    this.throttle = new LogThrottle(options.log);
  }

  async accept(req: IncomingMessage, res: ServerResponse, route: FunctionRoute): Promise<void> {
    try {
      // The alias or version is checked now and resolved again by each run (a canary's weight applies then).
      const found = this.o.versions.serving(route.name, route.qualifier, 0);
      const serving = found instanceof Promise ? await found : found;
      if (!serving)
        throw new KumoError(
          'function_not_found',
          `no function named '${route.name}' is deployed (see kumo list)`,
        );
      const target = serving.target;
      const callback = header(req, 'x-callback-url');
      if (callback !== undefined) this.o.policy.checkUrl(callback);
      const taskToken = header(req, 'x-task-token');
      if (taskToken !== undefined && taskToken.length > MAX_TASK_TOKEN) {
        throw new KumoError(
          'bad_request',
          `X-Task-Token must be at most ${MAX_TASK_TOKEN} characters (got ${taskToken.length})`,
        );
      }
      // A full queue refuses before a byte of the body is read.
      this.o.queue.checkRoom(target.functionName);
      const body = await readBody(req, this.o.bodyLimit, 'async request body', {
        res,
        budget: this.o.bodyBudget,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(forwardedHeaders(req))) {
        if (v !== undefined && !CONTROL_HEADERS.includes(k))
          headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
      }
      const id = await this.o.queue.enqueue({
        function: target.functionName,
        trigger: 'async',
        request: { method: req.method ?? 'POST', path: route.path, headers },
        body,
        callbackUrl: callback ?? null,
        taskToken: taskToken ?? null,
        alias: route.qualifier ?? null,
      });
      const location = `/invocations/${id}`;
      sendJson(res, 202, { id, status: 'queued', location }, { location, [HEADERS.invocationId]: id });
    } catch (err) {
      if (!req.readableEnded) req.resume();
      const error = sendError(res, err);
      if (error.code === 'payload_too_large')
        this.throttle.warn(
          `async_too_large:${route.name}`,
          'async request refused with 413: body over the async limit',
          {
            function: route.name,
            limit: this.o.bodyLimit,
          },
        );
      if (error.code === 'internal_error')
        this.o.log.error('async request failed', { function: route.name, error: String(err) });
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v[0] : v;
}
