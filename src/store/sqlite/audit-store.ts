/** The audit log on the server's SQLite database: who did what, when, and how it ended. */
import type { SQLInputValue } from 'node:sqlite';
import type { AuditEntry, AuditQuery } from '../../core/index.ts';
import type { AuditStore } from '../access.ts';
import { toAuditEntry, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite AuditStore. */
export class SqliteAuditStore extends SqliteStatements implements AuditStore {
  async appendAudit(e: AuditEntry): Promise<void> {
    this.prepare(
      `INSERT INTO audit_log (time, key_id, key_name, method, path, route, scope, function, status, outcome, remote, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.time,
      e.keyId,
      e.keyName,
      e.method,
      e.path,
      e.route,
      e.scope,
      e.function,
      e.status,
      e.outcome,
      e.remote,
      Math.round(e.durationMs),
    );
  }

  async queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.since !== undefined) {
      where.push('time >= ?');
      args.push(q.since);
    }
    if (q.keyId !== undefined) {
      where.push('key_id = ?');
      args.push(q.keyId);
    }
    if (q.function !== undefined) {
      where.push('function = ?');
      args.push(q.function);
    }
    // Filters vary per call, so this statement is prepared each time rather than cached.
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as Row[]).map(toAuditEntry);
  }

  async pruneAudit(keep: number): Promise<number> {
    const r = this.prepare(
      'DELETE FROM audit_log WHERE id <= (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1 OFFSET ?)',
    ).run(keep);
    return Number(r.changes);
  }
}
