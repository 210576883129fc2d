/** API routes on PostgreSQL. */
import type { ApiRoute, ApiRouteRecord } from '../../core/index.ts';
import type { ApiRouteStore } from '../api-routes.ts';
import { toApiRoute, type Row } from '../rows.ts';
import type { PgSql } from './database.ts';

/** PostgreSQL ApiRouteStore. */
export class PgApiRouteStore implements ApiRouteStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async setApiRoutes(fn: string, routes: ApiRoute[], now: number): Promise<ApiRouteRecord | undefined> {
    return this.sql.begin(async (tx) => {
      // One lock for every route change: two nodes deploying the same route take turns.
      await tx`SELECT pg_advisory_xact_lock(hashtext('kumo_api_routes'))`;
      for (const r of routes) {
        const [row] = await tx<
          Row[]
        >`SELECT * FROM api_routes WHERE method = ${r.method} AND path = ${r.path}`;
        if (row && row.function !== fn) return toApiRoute(row);
      }
      const kept = new Map(
        (await tx<Row[]>`SELECT * FROM api_routes WHERE function = ${fn}`).map((row) => [
          `${String(row.method)} ${String(row.path)}`,
          Number(row.created_at),
        ]),
      );
      await tx`DELETE FROM api_routes WHERE function = ${fn}`;
      for (const r of routes)
        await tx`INSERT INTO api_routes (method, path, function, created_at)
          VALUES (${r.method}, ${r.path}, ${fn}, ${kept.get(`${r.method} ${r.path}`) ?? now})`;
      return undefined;
    });
  }

  async listApiRoutes(): Promise<ApiRouteRecord[]> {
    return (await this.sql<Row[]>`SELECT * FROM api_routes ORDER BY path, method`).map(toApiRoute);
  }
}
