/**
 * The SQLite backend: every store of a server on one database file (WAL), sharing one
 * connection. Writes are synchronous inside (node:sqlite), so each async method has done its
 * work when it returns its promise; callers still await, as they must for any other backend.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Stores } from '../stores.ts';
import { SqliteAliasStore, SqliteAwsCredentialStore } from './alias-store.ts';
import { SqliteApiRouteStore } from './api-route-store.ts';
import { SqliteAuditStore } from './audit-store.ts';
import { SqliteClusterStore } from './cluster-store.ts';
import { openSqliteDatabase, schemaVersion } from './database.ts';
import { SqliteFunctionStore } from './function-store.ts';
import { SqliteInvocationStore } from './history-store.ts';
import { SqliteKeyStore } from './key-store.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';
import { SqlitePluginStore } from './plugin-store.ts';
import { SqliteQueueStore } from './queue-store.ts';
import { SqliteScheduleStore } from './schedule-store.ts';
import { SqliteSecretStore } from './secret-store.ts';

/** The SQLite stores, with what only SQLite has: the database and its schema version. */
export interface SqliteStores extends Stores {
  /** The shared connection (the docs scanner opens its own, read-only, on `file`). */
  db: DatabaseSync;
  /** The database file (":memory:" in tests). */
  file: string;
  /** The schema version the database is at. */
  schemaVersion(): number;
}

/** Opens (and migrates) the SQLite database at `file` and every store on it. */
export function openSqliteStores(file: string, migrations: readonly Migration[] = MIGRATIONS): SqliteStores {
  const db = openSqliteDatabase(file, migrations);
  const functions = new SqliteFunctionStore(db);
  const all = {
    functions,
    invocations: new SqliteInvocationStore(db),
    queue: new SqliteQueueStore(db),
    schedules: new SqliteScheduleStore(db),
    keys: new SqliteKeyStore(db),
    secrets: new SqliteSecretStore(db),
    audit: new SqliteAuditStore(db),
    plugins: new SqlitePluginStore(db),
    aliases: new SqliteAliasStore(db),
    awsCredentials: new SqliteAwsCredentialStore(db),
    apiRoutes: new SqliteApiRouteStore(db),
    cluster: new SqliteClusterStore(db),
  };
  return {
    ...all,
    db,
    file,
    schemaVersion: () => schemaVersion(db),
    close: async () => {
      for (const store of Object.values(all)) store.clearStatements();
      if (db.isOpen) db.close();
    },
  };
}
