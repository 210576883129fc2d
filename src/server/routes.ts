/**
 * THE ROUTE TABLE. Every HTTP route kumo serves is declared once, next to its handler (method,
 * path, what it needs, body and query schema, summary), and assembled here into one table:
 *   - control plane, /api/v1/…         api/routes/*.ts, put together by api/control-api.ts
 *   - invocations by Host, /fn, /async  gateway/routes.ts
 *   - ShortedFaaS aliases (/f /a /r …)  gateway/compat.ts
 *   - /metrics, /invocations/ID         server-async.ts
 *   - /healthz, /ui                     below
 * To add a route, declare it beside its handler and make sure its list reaches `routes` below.
 * The front door, the dispatch, GET /api/v1/scopes and GET /api/v1/openapi.json all read this
 * table; a request it does not match runs nothing.
 *
 * `handle` is the path of every request, top to bottom: match → alias → front door → 404/405 →
 * query check → handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KumoError, type ServerLog } from '../core/index.ts';
import { checkQuery, RouteTable, sendError, sendJson, type Lookup, type Route } from '../http/index.ts';
import { nameFromHost } from '../gateway/index.ts';

/** What the table is made of and what the pipeline needs. */
export interface RoutesDeps {
  /** The declared routes of each part, in matching order. */
  parts: Route[][];
  /** The front door: false when it has answered (auth/access-guard.ts). */
  admit: (req: IncomingMessage, res: ServerResponse, pathname: string, found: Lookup) => Promise<boolean>;
  /** Serves the web console's files. */
  console: (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void>;
  baseDomain: string;
  /** The port the server listens on (for the hint of a 404). */
  port: () => number;
  log: ServerLog;
}

/** The server's own routes: health and the console. */
function serverRoutes(d: RoutesDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      scope: 'none',
      tag: 'server',
      summary: 'Liveness: 200 {"status": "ok"}',
      handler: ({ req, res }) => {
        req.resume();
        sendJson(res, 200, { status: 'ok' });
      },
    },
    {
      method: 'GET',
      path: '/ui/**',
      scope: 'none',
      tag: 'server',
      // Its files hold no data; the page asks for a key and calls /api/v1 with it.
      summary: 'The web console (static files; the page asks for an API key)',
      handler: ({ req, res, pathname }) => d.console(req, res, pathname),
    },
  ];
}

/** The route table and the request pipeline. */
export function createRoutes(d: RoutesDeps) {
  const table = new RouteTable([...serverRoutes(d), ...d.parts.flat()]);

  /** Routes `req`: the one pipeline every request goes through. */
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let target = parse(req.url ?? '/');
    const method = req.method ?? 'GET';
    let found = table.match(method, target.pathname, nameFromHost(req.headers.host, d.baseDomain));
    // An alias is rewritten and routed again, so its target's declaration decides everything.
    if (found.kind === 'route' && found.route.alias) {
      const url = found.route.alias.rewrite(context(req, res, found.params, target));
      if (url === undefined) found = { kind: 'none' };
      else {
        req.url = url;
        target = parse(url);
        found = table.match(method, target.pathname, undefined);
      }
    }
    if (!(await d.admit(req, res, target.pathname, found))) return;
    if (found.kind !== 'route' || !found.route.handler) {
      req.resume();
      sendError(
        res,
        unmatched(method, target.pathname, found),
        found.kind === 'method' ? allowHeader(found) : {},
      );
      return;
    }
    const ctx = context(req, res, found.params, target);
    try {
      if (found.route.query) checkQuery(found.route.query, ctx.query);
      await found.route.handler(ctx);
    } catch (err) {
      const error = sendError(res, err);
      if (error.code === 'internal_error')
        d.log.error('request failed', {
          method,
          path: target.pathname,
          route: found.route.path,
          error: String((err as Error)?.stack ?? err),
        });
    }
  };

  /** The 404 or 405 of a request no declaration serves. */
  const unmatched = (method: string, pathname: string, found: Lookup): KumoError => {
    if (found.kind === 'method')
      return new KumoError('method_not_allowed', `${method} is not allowed on ${pathname}`);
    if (pathname.startsWith('/api/'))
      return new KumoError(
        'route_not_found',
        `no control API route ${method} ${pathname} (GET /api/v1/openapi.json lists them)`,
      );
    const port = d.port();
    return new KumoError(
      'route_not_found',
      `nothing at ${pathname}: functions are at /fn/NAME/ or http://NAME.${d.baseDomain}${port === 80 ? '' : `:${port}`}/`,
    );
  };

  return { table, handle };
}

/** A request target split into path and query. */
function parse(url: string): { url: string; pathname: string; search: string } {
  const q = url.indexOf('?');
  return { url, pathname: q === -1 ? url : url.slice(0, q), search: q === -1 ? '' : url.slice(q + 1) };
}

function context(
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  target: { url: string; pathname: string; search: string },
) {
  return {
    req,
    res,
    params,
    query: new URLSearchParams(target.search),
    url: target.url,
    pathname: target.pathname,
  };
}

function allowHeader(found: Extract<Lookup, { kind: 'method' }>): Record<string, string> {
  const methods = new Set(found.allow);
  if (methods.has('GET')) methods.add('HEAD');
  return { allow: [...methods].join(', ') };
}
