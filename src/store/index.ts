/** store: persistence behind one Store interface; SQLite (WAL) by default. */
export type * from './store.ts';
export { openSqliteStore, SqliteStore, migrate } from './sqlite/sqlite-store.ts';
export { MIGRATIONS, type Migration } from './sqlite/migrations.ts';
export { ActiveVersions, type ActiveVersion } from './active-versions.ts';
export type * from './invocations.ts';
export { SqliteInvocationStore } from './sqlite/invocation-store.ts';
export type * from './access.ts';
export { SqliteKeyStore } from './sqlite/key-store.ts';
export { SqliteSecretStore } from './sqlite/secret-store.ts';
export { SqliteAuditStore } from './sqlite/audit-store.ts';
export type * from './plugin-store.ts';
export { SqlitePluginStore } from './sqlite/plugin-store.ts';
