/**
 * The PostgreSQL backend: every store of a server on one database, sharing one connection pool.
 * Opening it checks that the server answers (a clear error naming host, port and database, never
 * the password) and runs the migrations, safely when several nodes start at once (database.ts).
 */
import type { Stores } from '../stores.ts';
import type { Migration } from '../sqlite/migrations.ts';
import { PgAliasStore, PgAwsCredentialStore } from './alias-store.ts';
import { PgApiRouteStore } from './api-route-store.ts';
import { PgAuditStore } from './audit-store.ts';
import { PgClusterStore } from './cluster-store.ts';
import {
  checkReachable,
  migratePostgres,
  openPool,
  pgSchemaVersion,
  safeReason,
  type PgPoolOptions,
  type PgSql,
} from './database.ts';
import { PgFunctionStore } from './function-store.ts';
import { PgInvocationStore } from './history-store.ts';
import { PgKeyStore } from './key-store.ts';
import { PG_MIGRATIONS } from './migrations.ts';
import { PgPluginStore } from './plugin-store.ts';
import { PgQueueStore } from './queue-store.ts';
import { PgScheduleStore } from './schedule-store.ts';
import { PgSecretStore } from './secret-store.ts';
import { describeStoreUrl, postgresUrlProblem } from './url.ts';

/** The PostgreSQL stores, with what only PostgreSQL has: the pool and its schema version. */
export interface PostgresStores extends Stores {
  /** The shared pool. */
  sql: PgSql;
  /** The database, for messages: postgres://user@host:port/db, never the password. */
  describe: string;
  /** The schema version the database is at. */
  schemaVersion(): Promise<number>;
}

/** How the PostgreSQL stores are opened. */
export interface PostgresStoreOptions extends PgPoolOptions {
  /** The migrations to run (tests add broken ones). */
  migrations?: readonly Migration[];
}

/** Opens the pool on `url`, checks the server answers, migrates, and builds every store on it. */
export async function openPostgresStores(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStores> {
  const problem = postgresUrlProblem(url);
  if (problem) throw new Error(`the PostgreSQL store URL ${describeStoreUrl(url)} is not usable: ${problem}`);
  const sql = await openPool(url, options);
  try {
    await checkReachable(sql, url);
    try {
      await migratePostgres(sql, options.migrations ?? PG_MIGRATIONS);
    } catch (err) {
      throw new Error(`the PostgreSQL store at ${describeStoreUrl(url)}: ${safeReason(err, url)}`, {
        cause: err,
      });
    }
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    functions: new PgFunctionStore(sql),
    invocations: new PgInvocationStore(sql),
    queue: new PgQueueStore(sql),
    schedules: new PgScheduleStore(sql),
    keys: new PgKeyStore(sql),
    secrets: new PgSecretStore(sql),
    audit: new PgAuditStore(sql),
    plugins: new PgPluginStore(sql),
    aliases: new PgAliasStore(sql),
    awsCredentials: new PgAwsCredentialStore(sql),
    apiRoutes: new PgApiRouteStore(sql),
    cluster: new PgClusterStore(sql),
    sql,
    describe: describeStoreUrl(url),
    schemaVersion: () => pgSchemaVersion(sql),
    // Queries in flight get 5 s to finish before their connections are closed.
    close: () => (closing ??= sql.end({ timeout: 5 })),
  };
}
