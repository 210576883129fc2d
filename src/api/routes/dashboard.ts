/**
 * The routes the web console needs beyond the rest of the API, usable by any client: every
 * function at a glance (GET /overview) and a function's invocations in time buckets
 * (GET /functions/:name/stats/buckets). Both need the read scope (auth/access-rules.ts).
 */
import type { Router } from '../router.ts';
import { overviewRoute, type OverviewDeps } from './overview.ts';
import { statsBucketsRoute, type BucketRoutesDeps } from './stats-buckets.ts';

/** What these routes need. */
export type DashboardRoutesDeps = OverviewDeps & BucketRoutesDeps;

/** Adds the routes to `router`. */
export function registerDashboardRoutes(router: Router, d: DashboardRoutesDeps): Router {
  return router
    .on('GET', '/overview', overviewRoute(d))
    .on('GET', '/functions/:name/stats/buckets', statsBucketsRoute(d));
}
