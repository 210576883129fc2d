/**
 * The data plane's routes: a function by its Host name (`NAME.localhost`, every path), by path
 * (`/fn/NAME/…`), and the async intake (`/async/fn/NAME/…`). Each needs what the function's
 * access setting says (`function`); the gateway does the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KumoError } from '../core/index.ts';
import type { Route } from '../http/index.ts';
import { routeFunction, type FunctionRoute } from './route.ts';

/** What the invocation routes need. */
export interface GatewayRoutesDeps {
  /** Serves an invocation (the gateway; `forceAsync` queues it and answers 202). */
  invoke: (
    req: IncomingMessage,
    res: ServerResponse,
    route: FunctionRoute,
    forceAsync?: boolean,
  ) => Promise<void>;
  baseDomain: string;
  /** Whether a function of that name is deployed (Host labels with `--`). */
  exists: (name: string) => boolean;
}

/** The invocation routes. */
export function gatewayRoutes(d: GatewayRoutesDeps): Route[] {
  const routed = (host: string | undefined, url: string): FunctionRoute => {
    const fn = routeFunction(host, url, d.baseDomain, d.exists);
    // The table matched a function route, so routeFunction finds one too.
    if (!fn) throw new KumoError('route_not_found', `no function in ${url}`);
    return fn;
  };
  const tag = 'invoke';
  return [
    {
      method: '*',
      path: '/**',
      host: true,
      scope: 'function',
      tag,
      summary:
        'Invoke the function the Host header names (NAME.localhost, an alias: NAME--ALIAS.localhost); it sees the path and query as sent',
      handler: ({ req, res, url }) => d.invoke(req, res, routed(req.headers.host, url)),
    },
    {
      method: '*',
      path: '/fn/:name/**',
      scope: 'function',
      tag,
      summary:
        'Invoke NAME (NAME@ALIAS or NAME@VERSION: that alias or version; any method); it sees the rest of the path and the query. Prefer: respond-async queues it',
      handler: ({ req, res, url }) => d.invoke(req, res, routed(undefined, url)),
    },
    {
      method: '*',
      path: '/async/fn/:name/**',
      scope: 'function',
      tag,
      summary:
        'Queue an invocation of NAME durably: 202 {id, status, location}; the result at /invocations/ID',
      handler: ({ req, res, url }) => d.invoke(req, res, routed(undefined, url.slice('/async'.length)), true),
    },
  ];
}
