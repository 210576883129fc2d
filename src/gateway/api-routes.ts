/**
 * API routes on the data plane (core/api-route.ts): `/routes/PATH` is an alias of
 * `/fn/NAME/PATH` for the function the route `METHOD /PATH` maps to, so the call gets exactly
 * that function's auth, limits, history and logs. The routes are held in memory (the hot path
 * does not wait for the store) and read again after a change on this node and whenever a
 * function changes (a deleted function's routes go with it).
 */
import { API_ROUTE_PREFIX, ApiRouteMatcher, type ApiRouteMatch, type ApiRouteRecord } from '../core/index.ts';
import type { Route } from '../http/index.ts';
import { nameFromHost } from './route.ts';

/** The routes of every function, as the gateway matches them. */
export class ApiRouteTable {
  private matcher = new ApiRouteMatcher([]);
  private readonly load: () => Promise<ApiRouteRecord[]>;
  private generation = 0;

  constructor(load: () => Promise<ApiRouteRecord[]>) {
    this.load = load;
  }

  /** Reads the routes again; a read that ends after a newer one is dropped. */
  async refresh(): Promise<void> {
    const mine = ++this.generation;
    const records = await this.load();
    if (mine === this.generation) this.matcher = new ApiRouteMatcher(records);
  }

  /** The route of `method pathname` (below the prefix), if any. */
  match(method: string, pathname: string): ApiRouteMatch | undefined {
    return this.matcher.match(method, pathname);
  }

  /** Every route. */
  list(): ApiRouteRecord[] {
    return this.matcher.records;
  }
}

/** The URL an API route call stands for (`/fn/NAME/PATH?query`), or undefined when no route matches. */
export function apiRouteUrl(table: ApiRouteTable, method: string, url: string): string | undefined {
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const rest = pathname.slice(API_ROUTE_PREFIX.length) || '/';
  const found = table.match(method, rest);
  return found ? `/fn/${found.record.function}${rest}${q === -1 ? '' : url.slice(q)}` : undefined;
}

/** The data-plane declaration of API routes (an alias of the function's own route). */
export function apiRouteRoutes(table: ApiRouteTable, baseDomain: string): Route[] {
  return [
    {
      method: '*',
      path: `${API_ROUTE_PREFIX}/**`,
      scope: 'function',
      tag: 'invoke',
      summary:
        'Call the function an API route maps METHOD /PATH to (SAM Api/HttpApi events; GET /api/v1/routes lists them); it sees /PATH',
      alias: {
        of: '/fn/:name/**',
        rewrite: ({ req, url }) =>
          nameFromHost(req.headers.host, baseDomain)
            ? undefined
            : apiRouteUrl(table, req.method ?? 'GET', url),
      },
    },
  ];
}
