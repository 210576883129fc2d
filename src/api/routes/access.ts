/**
 * The access-control routes of the control API — keys, whoami, scopes, secrets, audit. Each
 * declares the scope it needs; the front door (auth/access-guard.ts) applies it before the
 * handler runs, so these handlers only do the work.
 */
import type { Route } from '../../http/index.ts';
import { auditRoute, type AuditReader } from './audit.ts';
import { keyRoutes, type KeyRoutesDeps, type RouteAccess } from './keys.ts';
import { secretRoutes, type SecretRoutesDeps } from './secrets.ts';

/** What these routes need. */
export interface AccessRoutesDeps extends KeyRoutesDeps, SecretRoutesDeps {
  audit: AuditReader;
  now: () => number;
}

/** The key, whoami, scopes, secret and audit routes; `routes` is every declared route (for GET /scopes). */
export function accessRoutes(d: AccessRoutesDeps, routes: () => readonly Route[]): Route[] {
  const routeAccess = (): RouteAccess[] =>
    routes().map((r) => ({ method: r.method, path: r.path, scope: r.scope, summary: r.summary }));
  return [...keyRoutes(d, routeAccess), ...secretRoutes(d), auditRoute(d)];
}
