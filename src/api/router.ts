/** A small method + path router for the control API; every failure becomes a JSON error. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KumoError } from '../core/index.ts';
import type { ServerLog } from '../core/index.ts';
import { sendError } from '../http/index.ts';

/** What a route handler receives. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** A route handler; it answers on ctx.res. */
export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  /** The pattern as given, e.g. `/functions/:name`. */
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/** Routes requests under a prefix by method and path pattern (`/functions/:name`). */
export class Router {
  private readonly routes: Route[] = [];
  private readonly log: ServerLog;

  constructor(log: ServerLog) {
    this.log = log;
  }

  /** Adds a route. */
  on(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const source = path.replace(/:([a-z]+)/g, (_m, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.routes.push({ method, path, pattern: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  /** Every route as registered (method and path pattern), for `GET /api/v1/scopes` and its tests. */
  list(): { method: string; path: string }[] {
    return this.routes.map((r) => ({ method: r.method, path: r.path }));
  }

  /** Handles `req` whose path (below the prefix) is `path`. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => (params[key] = decodeURIComponent(m[i + 1] ?? '')));
      try {
        await route.handler({ req, res, params, query });
      } catch (err) {
        const error = sendError(res, err);
        if (error.code === 'internal_error')
          this.log.error('control API request failed', {
            method: req.method,
            path,
            error: String((err as Error)?.stack ?? err),
          });
      }
      return;
    }
    req.resume();
    sendError(
      res,
      pathMatched
        ? new KumoError('method_not_allowed', `${req.method} is not allowed on ${path}`)
        : new KumoError(
            'route_not_found',
            `no control API route ${req.method} ${path} (see docs/http-api.md)`,
          ),
    );
  }
}
