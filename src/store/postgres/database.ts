/**
 * The PostgreSQL connection pool (porsager's `postgres` client, loaded only when a PostgreSQL URL
 * is given) and the migrations run on start. Several nodes may start at once: migrations run in
 * one transaction holding a transaction-level advisory lock, so one node migrates and the others
 * wait for it, then find nothing left to do.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { Migration } from '../sqlite/migrations.ts';
import { describeStoreUrl } from './url.ts';

/** The pool every PostgreSQL store of a server shares. */
export type PgSql = Sql;

/** Where a query runs: the pool, or one transaction of it. */
export type PgQuery = Sql | TransactionSql;

/** How the pool is opened. */
export interface PgPoolOptions {
  /** Connections at most (default 16). */
  max?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeout?: number;
}

/** The advisory lock key of kumo's migrations ('kumo' in ASCII). */
const MIGRATION_LOCK = 0x6b756d6f;

/** Opens a pool on `url`; no connection is made until the first query. */
export async function openPool(url: string, options: PgPoolOptions = {}): Promise<PgSql> {
  // Loaded here, not at the top: a server on SQLite never loads the client.
  const { default: postgres } = await import('postgres');
  return postgres(url, {
    max: options.max ?? 16,
    // Short: while the store is down a request must not wait long for a connection that will not come.
    connect_timeout: options.connectTimeout ?? 3,
    // Notices (e.g. "relation already exists, skipping") are not errors; kumo has nothing to do with them.
    onnotice: () => {},
    transform: { undefined: null },
    connection: { application_name: 'kumo' },
    types: {
      // bigint columns hold epoch milliseconds and counts: numbers, not the client's default strings.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  });
}

/**
 * Applies every migration newer than the database's version, all in one transaction under an
 * advisory lock; returns how many ran. A failure rolls everything back and names the migration.
 */
export async function migratePostgres(sql: PgSql, migrations: readonly Migration[]): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
    const [row] = await tx`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`;
    const current = Number(row?.v ?? 0);
    let applied = 0;
    for (const m of migrations) {
      if (m.version <= current) continue;
      try {
        await tx.unsafe(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`;
      applied++;
    }
    return applied;
  });
}

/** The schema version the database is at (0 before any migration). */
export async function pgSchemaVersion(sql: PgSql): Promise<number> {
  const [row] = await sql`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`;
  return Number(row?.v ?? 0);
}

/** Checks that the server answers; a clear error naming host, port and database (never the password) when not. */
export async function checkReachable(sql: PgSql, url: string): Promise<void> {
  try {
    await sql`SELECT 1`;
  } catch (err) {
    throw new Error(`cannot use the PostgreSQL store at ${describeStoreUrl(url)}: ${safeReason(err, url)}`, {
      cause: err,
    });
  }
}

/** An error's message with the URL's password taken out, should a driver ever include it. */
export function safeReason(err: unknown, url: string): string {
  const message = err instanceof Error ? err.message : String(err);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // An unparsable URL has no password to hide.
  }
  return password ? message.split(password).join('***') : message;
}
