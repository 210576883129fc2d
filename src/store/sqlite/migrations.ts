/**
 * Versioned schema migrations. Each entry runs once, in order, inside a transaction; the applied
 * version is kept in `schema_migrations`. Never edit a released migration: add the next one.
 */

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** All migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'functions, versions and logs',
    sql: `
      CREATE TABLE functions (
        name TEXT PRIMARY KEY,
        active_version INTEGER NOT NULL,
        last_version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE versions (
        function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        bundle_hash TEXT NOT NULL,
        spec TEXT NOT NULL,
        build_dir TEXT NOT NULL,
        build_log TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (function, version)
      );
      CREATE TABLE logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        function TEXT NOT NULL,
        version INTEGER NOT NULL,
        invocation_id TEXT,
        stream TEXT NOT NULL,
        line TEXT NOT NULL
      );
      CREATE INDEX logs_function_id ON logs(function, id);
      CREATE INDEX logs_function_time ON logs(function, time);
    `,
  },
];
