/**
 * The routes the web console needs beyond the rest of the API, usable by any client: every
 * function at a glance (GET /overview) and a function's invocations in time buckets
 * (GET /functions/:name/stats/buckets). Both need the read scope.
 */
import type { Route } from '../../http/index.ts';
import { overviewRoute, type OverviewDeps } from './overview.ts';
import { statsBucketsRoute, type BucketRoutesDeps } from './stats-buckets.ts';

/** What these routes need. */
export type DashboardRoutesDeps = OverviewDeps & BucketRoutesDeps;

/** The dashboard routes. */
export function dashboardRoutes(d: DashboardRoutesDeps): Route[] {
  return [overviewRoute(d), statsBucketsRoute(d)];
}
