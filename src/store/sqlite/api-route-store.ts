/** API routes on the server's SQLite database. */
import type { ApiRoute, ApiRouteRecord } from '../../core/index.ts';
import type { ApiRouteStore } from '../api-routes.ts';
import { toApiRoute, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite ApiRouteStore. */
export class SqliteApiRouteStore extends SqliteStatements implements ApiRouteStore {
  async setApiRoutes(fn: string, routes: ApiRoute[], now: number): Promise<ApiRouteRecord | undefined> {
    // Checked and written under one write lock: two deploys cannot both take a route.
    return this.transaction(() => {
      const held = this.prepare('SELECT * FROM api_routes WHERE method = ? AND path = ?');
      for (const r of routes) {
        const row = held.get(r.method, r.path) as Row | undefined;
        if (row && row.function !== fn) return toApiRoute(row);
      }
      const kept = new Map(
        (this.prepare('SELECT * FROM api_routes WHERE function = ?').all(fn) as Row[]).map((row) => [
          `${String(row.method)} ${String(row.path)}`,
          Number(row.created_at),
        ]),
      );
      this.prepare('DELETE FROM api_routes WHERE function = ?').run(fn);
      const insert = this.prepare(
        'INSERT INTO api_routes (method, path, function, created_at) VALUES (?, ?, ?, ?)',
      );
      for (const r of routes) insert.run(r.method, r.path, fn, kept.get(`${r.method} ${r.path}`) ?? now);
      return undefined;
    });
  }

  async listApiRoutes(): Promise<ApiRouteRecord[]> {
    return (this.prepare('SELECT * FROM api_routes ORDER BY path, method').all() as Row[]).map(toApiRoute);
  }
}
