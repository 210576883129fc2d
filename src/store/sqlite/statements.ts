/** What every SQLite store of kumo shares: cached prepared statements and IMMEDIATE transactions. */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** A store over the shared database: statements prepared once, writes grouped in transactions. */
export class SqliteStatements {
  /** The open database, shared by every SQLite store of this server. */
  readonly db: DatabaseSync;
  private readonly stmts: Map<string, StatementSync> = new Map();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** The prepared statement for `sql`, made on first use. */
  protected prepare(sql: string): StatementSync {
    let stmt = this.stmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.stmts.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs `fn` in one IMMEDIATE transaction (the write lock is taken up front, so no upgrade deadlock). */
  protected transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Forgets the cached statements (before closing the database). */
  clearStatements(): void {
    this.stmts.clear();
  }
}
