/** The audit log on PostgreSQL: who did what, when, and how it ended. */
import type { AuditEntry, AuditQuery } from '../../core/index.ts';
import type { AuditStore } from '../access.ts';
import { toAuditEntry, type Row } from '../rows.ts';
import type { PgSql } from './database.ts';

/** PostgreSQL AuditStore. */
export class PgAuditStore implements AuditStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this
      .sql`INSERT INTO audit_log (time, key_id, key_name, method, path, route, scope, function, status, outcome, remote, duration_ms)
      VALUES (${e.time}, ${e.keyId}, ${e.keyName}, ${e.method}, ${e.path}, ${e.route}, ${e.scope}, ${e.function}, ${e.status},
        ${e.outcome}, ${e.remote}, ${Math.round(e.durationMs)})`;
  }

  async queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
    const sql = this.sql;
    const rows = await sql<Row[]>`SELECT * FROM audit_log WHERE true
      ${q.since === undefined ? sql`` : sql`AND time >= ${q.since}`}
      ${q.keyId === undefined ? sql`` : sql`AND key_id = ${q.keyId}`}
      ${q.function === undefined ? sql`` : sql`AND function = ${q.function}`}
      ORDER BY id DESC LIMIT ${q.limit}`;
    return rows.map(toAuditEntry);
  }

  async pruneAudit(keep: number): Promise<number> {
    const res = await this.sql`DELETE FROM audit_log
      WHERE id <= (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1 OFFSET ${keep})`;
    return res.count;
  }
}
