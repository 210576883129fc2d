/** Prepared statements cached by SQL text, one cache per store object on the shared database. */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** A function preparing `sql` once and returning the same statement afterwards. */
export function statementCache(db: DatabaseSync): (sql: string) => StatementSync {
  const stmts = new Map<string, StatementSync>();
  return (sql) => {
    let stmt = stmts.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      stmts.set(sql, stmt);
    }
    return stmt;
  };
}
