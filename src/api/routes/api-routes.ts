/** GET /routes — the API routes (METHOD /path → function) and the URL each is served at. */
import { API_ROUTE_PREFIX, type ApiRouteRecord } from '../../core/index.ts';
import { sendJson, type Route } from '../../http/index.ts';

/** What the route list needs. */
export interface ApiRouteListDeps {
  /** Every route (the gateway's table). */
  list: () => ApiRouteRecord[];
  urls: (name: string) => { url: string; path: string };
}

/** The declaration of GET /routes. */
export function apiRouteListRoute(d: ApiRouteListDeps): Route {
  return {
    method: 'GET',
    path: '/routes',
    scope: 'read',
    tag: 'functions',
    summary: `Every API route (SAM Api/HttpApi events): METHOD /path, its function, and its URL under ${API_ROUTE_PREFIX}`,
    handler: ({ req, res }) => {
      req.resume();
      const routes = d.list().map((r) => ({
        ...r,
        // The function's path URL with /fn/NAME replaced by the route's own path.
        url: d.urls(r.function).path.replace(/\/fn\/[^/]+$/, `${API_ROUTE_PREFIX}${r.path}`),
      }));
      sendJson(res, 200, { routes });
    },
  };
}
