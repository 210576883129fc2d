/** store: persistence behind one Store interface; SQLite (WAL) by default. */
export type * from './store.ts';
export { openSqliteStore, SqliteStore, migrate } from './sqlite/sqlite-store.ts';
export { MIGRATIONS, type Migration } from './sqlite/migrations.ts';
export { ActiveVersions, type ActiveVersion } from './active-versions.ts';
