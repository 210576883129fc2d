/**
 * The access-control routes of the control API — keys, whoami, scopes, secrets, audit — registered
 * on its router. Who may call them (and every other route) is decided before routing, by the front
 * door (auth/access-guard.ts); these handlers only do the work.
 */
import type { Router } from '../router.ts';
import { auditRoute, type AuditReader } from './audit.ts';
import { keyRoutes, type KeyRoutesDeps, type RouteAccess } from './keys.ts';
import { secretRoutes, type SecretRoutesDeps } from './secrets.ts';

/** What these routes need. */
export interface AccessRoutesDeps extends KeyRoutesDeps, SecretRoutesDeps {
  audit: AuditReader;
  now: () => number;
  /** What a control-plane route (method, path below /api/v1) needs, from the access rules. */
  requirementOf: (method: string, path: string) => { need: string; explicit: boolean };
  /** The guarded routes outside /api/v1 (health, metrics, compatibility listings, invocations). */
  topLevel: RouteAccess[];
}

/** Adds the routes to `router`. */
export function registerAccessRoutes(router: Router, d: AccessRoutesDeps): Router {
  const routeAccess = (): RouteAccess[] => [
    ...router.list().map((r) => {
      const { need, explicit } = d.requirementOf(r.method, r.path);
      return { method: r.method, path: `/api/v1${r.path}`, scope: need, explicit };
    }),
    ...d.topLevel,
  ];
  const keys = keyRoutes(d, routeAccess);
  const secrets = secretRoutes(d);
  return router
    .on('GET', '/whoami', keys.whoami)
    .on('GET', '/scopes', keys.scopes)
    .on('GET', '/keys', keys.list)
    .on('POST', '/keys', keys.create)
    .on('DELETE', '/keys/:id', keys.revoke)
    .on('GET', '/functions/:name/secrets', secrets.list)
    .on('PUT', '/functions/:name/secrets/:secret', secrets.set)
    .on('DELETE', '/functions/:name/secrets/:secret', secrets.unset)
    .on('GET', '/audit', auditRoute(d));
}
