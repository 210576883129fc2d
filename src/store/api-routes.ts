/** API routes (core/api-route.ts): `METHOD /path` → function, kept with the function. */
import type { ApiRoute, ApiRouteRecord } from '../core/index.ts';

/** Persistence of API routes. */
export interface ApiRouteStore {
  /**
   * Makes `routes` the routes of `fn` in one write (its other routes are removed). When a route
   * is another function's, nothing is written and that route's record is returned.
   */
  setApiRoutes(fn: string, routes: ApiRoute[], now: number): Promise<ApiRouteRecord | undefined>;
  /** Every route, by path then method. */
  listApiRoutes(): Promise<ApiRouteRecord[]>;
}
