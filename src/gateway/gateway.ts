/**
 * The data plane's HTTP side: a live request for a function becomes one invocation, run by the
 * Invoker (invoker.ts) with its answer streamed to the client; `Prefer: respond-async` (or
 * /async/fn/) goes to the durable queue instead. The body is read against the limit and the
 * server's body budget only once the function is known.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HEADERS, KumoError } from '../core/index.ts';
import { readBody, sendError, type BodyBudget } from '../http/index.ts';
import { endToEnd } from './headers.ts';
import type { Invoker } from './invoker.ts';
import type { FunctionRoute } from './route.ts';

/** Takes requests with `Prefer: respond-async` (or under /async/fn/) into the durable queue. */
export interface AsyncIntake {
  accept(req: IncomingMessage, res: ServerResponse, route: FunctionRoute): Promise<void>;
}

/** What the gateway needs. */
export interface GatewayOptions {
  invoker: Invoker;
  /** Largest request body in bytes (413 above). */
  bodyLimit: number;
  /** Bytes of bodies being held in memory over all requests (503 server_busy when full). */
  bodyBudget?: BodyBudget | undefined;
  /** Bytes of a sync response body kept for the history (0: none). */
  historyBodyLimit?: number;
  /** Async requests go here; without it they are refused. */
  intake?: AsyncIntake | undefined;
  now?: () => number;
  newInvocationId?: () => string;
}

/** Serves function invocations. */
export class Gateway {
  private readonly o: GatewayOptions &
    Required<Pick<GatewayOptions, 'now' | 'newInvocationId' | 'historyBodyLimit'>>;

  constructor(options: GatewayOptions) {
    this.o = { now: Date.now, newInvocationId: randomUUID, historyBodyLimit: 0, ...options };
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
    const id = this.o.newInvocationId();
    const idHeader = { [HEADERS.invocationId]: id };
    const historyLimit = this.o.historyBodyLimit;
    const { target } = await this.o.invoker.invoke(
      {
        id,
        function: route.name,
        qualifier: route.qualifier,
        trigger: 'http',
        attempt: 1,
        method: req.method ?? 'GET',
        path: route.path,
        headers: forwardedHeaders(req),
        body: () => readBody(req, this.o.bodyLimit, 'request body', { res, budget: this.o.bodyBudget }),
        startedAt: this.o.now(),
      },
      {
        sink: res,
        fail: (err) => sendError(res, err, idHeader),
        capture: (t) =>
          t.spec.history?.bodies !== false && historyLimit > 0
            ? { limit: historyLimit, chunks: [], size: 0, truncated: false }
            : undefined,
      },
    );
    // No such function: its body was never read.
    if (!target) req.resume();
  }
}

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
