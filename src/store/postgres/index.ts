/** store/postgres: the PostgreSQL backend (docs/architecture.md "Stores", "PostgreSQL"). */
export { openPostgresStores, type PostgresStores, type PostgresStoreOptions } from './stores.ts';
export { PG_MIGRATIONS } from './migrations.ts';
export { describeStoreUrl, isPostgresUrl, postgresUrlProblem } from './url.ts';
