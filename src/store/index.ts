/**
 * store: persistence behind async interfaces split by concern, each with a contract suite in
 * contract/; SQLite (WAL) is the default backend (sqlite/stores.ts), PostgreSQL the other
 * (postgres/stores.ts). docs/architecture.md "Stores".
 */
export type * from './stores.ts';
export type * from './functions.ts';
export type * from './invocations.ts';
export type * from './queue.ts';
export type * from './schedules.ts';
export type * from './access.ts';
export type * from './plugin-store.ts';
export type * from './aliases.ts';
export type * from './api-routes.ts';
export type * from './cluster.ts';
export {
  ActiveVersions,
  type ActiveVersion,
  type BuildLocator,
  type ChangeOrigin,
  type ServingVersion,
} from './active-versions.ts';
export { openSqliteStores, type SqliteStores } from './sqlite/stores.ts';
export { migrate, openSqliteDatabase } from './sqlite/database.ts';
export { MIGRATIONS, type Migration } from './sqlite/migrations.ts';
export { SqlitePluginStore } from './sqlite/plugin-store.ts';
export {
  describeStoreUrl,
  isPostgresUrl,
  openPostgresStores,
  PG_MIGRATIONS,
  postgresUrlProblem,
  type PostgresStoreOptions,
  type PostgresStores,
} from './postgres/index.ts';
