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
  {
    version: 2,
    name: 'invocations (history and durable queue), attempts, schedules',
    sql: `
      CREATE TABLE invocations (
        id TEXT PRIMARY KEY,
        function TEXT NOT NULL,
        version INTEGER,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        status_code INTEGER,
        outcome TEXT,
        cold INTEGER,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        duration_ms INTEGER,
        run_at INTEGER,
        lease_until INTEGER,
        schedule_id TEXT,
        serial_key TEXT,
        request TEXT NOT NULL,
        request_body BLOB,
        request_truncated INTEGER NOT NULL DEFAULT 0,
        response_headers TEXT,
        response_body BLOB,
        response_truncated INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        bodies_kept INTEGER NOT NULL DEFAULT 1,
        callback_url TEXT,
        task_token TEXT,
        callback_state TEXT,
        callback_attempts INTEGER NOT NULL DEFAULT 0,
        callback_next_at INTEGER,
        callback_error TEXT
      );
      CREATE INDEX invocations_ready ON invocations(run_at) WHERE status = 'queued';
      CREATE INDEX invocations_running ON invocations(lease_until) WHERE status = 'running';
      CREATE INDEX invocations_function_created ON invocations(function, created_at);
      CREATE INDEX invocations_created ON invocations(created_at);
      CREATE INDEX invocations_schedule ON invocations(schedule_id, status) WHERE schedule_id IS NOT NULL;
      CREATE INDEX invocations_callbacks ON invocations(callback_next_at) WHERE callback_state = 'pending';
      CREATE TABLE invocation_attempts (
        invocation_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        version INTEGER,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        duration_ms INTEGER,
        status_code INTEGER,
        outcome TEXT,
        cold INTEGER,
        error TEXT,
        PRIMARY KEY (invocation_id, attempt)
      );
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        function TEXT NOT NULL,
        source TEXT NOT NULL,
        cron TEXT NOT NULL,
        tz TEXT,
        data TEXT,
        overlap TEXT NOT NULL,
        catchup TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_tick_at INTEGER
      );
      CREATE INDEX schedules_function ON schedules(function);
      CREATE INDEX logs_invocation ON logs(invocation_id) WHERE invocation_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'API keys, encrypted secrets, audit log',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE TABLE secrets (
        function TEXT NOT NULL,
        name TEXT NOT NULL,
        ciphertext BLOB NOT NULL,
        key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (function, name)
      );
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        key_id TEXT,
        key_name TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        route TEXT NOT NULL,
        scope TEXT NOT NULL,
        function TEXT,
        status INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        remote TEXT,
        duration_ms INTEGER NOT NULL
      );
      CREATE INDEX audit_log_time ON audit_log(time);
      CREATE INDEX audit_log_key ON audit_log(key_id, id);
    `,
  },
  {
    version: 4,
    name: 'plugin data (kv, docs) and version sources (git commit)',
    sql: `
      CREATE TABLE plugin_kv (
        function TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (function, key)
      );
      CREATE TABLE plugin_docs (
        id TEXT PRIMARY KEY,
        collection TEXT NOT NULL,
        doc TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX plugin_docs_collection ON plugin_docs(collection, created_at);
      CREATE TABLE version_sources (
        function TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        repository TEXT,
        ref TEXT,
        commit_hash TEXT,
        PRIMARY KEY (function, version)
      );
    `,
  },
  {
    version: 5,
    name: 'callback destinations and delivery attempts; plugin usage per function',
    sql: `
      ALTER TABLE invocations ADD COLUMN callback_dest TEXT;
      CREATE TABLE callback_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        invocation_id TEXT NOT NULL REFERENCES invocations(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER,
        error TEXT
      );
      CREATE INDEX callback_deliveries_invocation ON callback_deliveries(invocation_id, id);
      CREATE TABLE plugin_usage (
        function TEXT NOT NULL,
        plugin TEXT NOT NULL,
        items INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (function, plugin)
      );
      INSERT INTO plugin_usage (function, plugin, items, bytes)
        SELECT function, 'kv', count(*), sum(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)))
        FROM plugin_kv GROUP BY function;
      INSERT INTO plugin_usage (function, plugin, items, bytes)
        SELECT created_by, 'docs', count(*), sum(length(CAST(doc AS BLOB))) FROM plugin_docs GROUP BY created_by;
      CREATE INDEX plugin_docs_created_by ON plugin_docs(created_by);
    `,
  },
  {
    version: 6,
    name: 'covering index of the stats figures (console charts and overview)',
    // The stats of one function over a window read only index pages; the index it replaces
    // (function, created_at) is its prefix, so inserts keep the same number of indexes.
    sql: `
      CREATE INDEX invocations_function_stats ON invocations(function, created_at, status, duration_ms, cold);
      DROP INDEX invocations_function_created;
    `,
  },
  {
    version: 7,
    name: 'aliases, the AWS credentials of keys, the alias of each invocation',
    // An alias names versions by number: the versions they name are spared by pruning
    // (deleteVersions), and the function's delete takes its aliases with it.
    sql: `
      CREATE TABLE aliases (
        function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        canary_version INTEGER,
        canary_weight REAL,
        description TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (function, name)
      );
      CREATE TABLE aws_credentials (
        access_key_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
        secret BLOB NOT NULL,
        box_key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      ALTER TABLE invocations ADD COLUMN alias TEXT;
      `,
  },
  {
    version: 8,
    name: 'cluster: change feed, build blobs, leases, claimed cron ticks, the node of each run',
    sql: `
      CREATE TABLE cluster_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        function TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE TABLE cluster_builds (
        hash TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        blob BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE cluster_leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        until INTEGER NOT NULL
      );
      CREATE TABLE cron_ticks (
        schedule_id TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        claimed_at INTEGER NOT NULL,
        PRIMARY KEY (schedule_id, due_at)
      );
      ALTER TABLE invocations ADD COLUMN node TEXT;
    `,
  },
  {
    version: 9,
    name: 'the node of each attempt',
    sql: `
      ALTER TABLE invocation_attempts ADD COLUMN node TEXT;
      `,
  },
  {
    version: 10,
    name: 'API routes (METHOD /path → function, from SAM Api/HttpApi events)',
    sql: `
      CREATE TABLE api_routes (
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (method, path)
      );
      CREATE INDEX api_routes_function ON api_routes(function);
    `,
  },
  {
    version: 11,
    name: 'the tick key of a cron invocation (storing the invocation claims the tick); cron_ticks dropped',
    // Partial: only cron rows carry a key, so the index stays as small as their number.
    sql: `
      ALTER TABLE invocations ADD COLUMN tick_key TEXT;
      CREATE UNIQUE INDEX invocations_tick_key ON invocations(tick_key) WHERE tick_key IS NOT NULL;
      DROP TABLE cron_ticks;
    `,
  },
];
