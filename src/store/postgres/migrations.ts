/**
 * The PostgreSQL schema, as versioned migrations run on start (database.ts). The schema is the
 * SQLite one (../sqlite/migrations.ts) at its latest version, in PostgreSQL's types: times are
 * epoch milliseconds in bigint columns (as the interfaces use them), durations double precision
 * (a sync invocation's is fractional), flags boolean, bodies bytea, JSON payloads text (they are
 * opaque to the store and counted in bytes: jsonb would reformat them). Columns that are sorted or
 * compared as keys use the "C" collation, so the order is the byte order SQLite gives whatever the
 * database's locale. `seq` stands in for SQLite's rowid (insertion order, a tie-break).
 * Never edit a released migration: add the next one.
 */
import type { Migration } from '../sqlite/migrations.ts';

/** All migrations, oldest first. */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'functions, versions, logs, invocations and the queue, schedules, keys, secrets, audit, plugins',
    sql: `
      CREATE TABLE functions (
        name TEXT COLLATE "C" PRIMARY KEY,
        active_version INTEGER NOT NULL,
        last_version INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE versions (
        function TEXT COLLATE "C" NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        bundle_hash TEXT NOT NULL,
        spec TEXT NOT NULL,
        build_dir TEXT NOT NULL,
        build_log TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (function, version)
      );
      CREATE INDEX versions_build_dir ON versions(build_dir);
      CREATE INDEX versions_bundle_hash ON versions(bundle_hash);
      CREATE TABLE version_sources (
        function TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        repository TEXT,
        ref TEXT,
        commit_hash TEXT,
        PRIMARY KEY (function, version)
      );
      CREATE TABLE logs (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
        function TEXT NOT NULL,
        version INTEGER NOT NULL,
        invocation_id TEXT,
        stream TEXT NOT NULL,
        line TEXT NOT NULL
      );
      CREATE INDEX logs_function_id ON logs(function, id);
      CREATE INDEX logs_function_time ON logs(function, time);
      CREATE INDEX logs_invocation ON logs(invocation_id) WHERE invocation_id IS NOT NULL;
      CREATE TABLE invocations (
        id TEXT PRIMARY KEY,
        seq BIGSERIAL NOT NULL,
        function TEXT NOT NULL,
        version INTEGER,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        status_code INTEGER,
        outcome TEXT,
        cold BOOLEAN,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT,
        duration_ms DOUBLE PRECISION,
        run_at BIGINT,
        lease_until BIGINT,
        schedule_id TEXT,
        serial_key TEXT,
        request TEXT NOT NULL,
        request_body BYTEA,
        request_truncated BOOLEAN NOT NULL DEFAULT false,
        response_headers TEXT,
        response_body BYTEA,
        response_truncated BOOLEAN NOT NULL DEFAULT false,
        error TEXT,
        bodies_kept BOOLEAN NOT NULL DEFAULT true,
        callback_url TEXT,
        task_token TEXT,
        callback_dest TEXT,
        callback_state TEXT,
        callback_attempts INTEGER NOT NULL DEFAULT 0,
        callback_next_at BIGINT,
        callback_error TEXT
      );
      CREATE INDEX invocations_ready ON invocations(run_at, seq) WHERE status = 'queued';
      CREATE INDEX invocations_running ON invocations(lease_until) WHERE status = 'running';
      CREATE INDEX invocations_running_serial ON invocations(serial_key) WHERE status = 'running' AND serial_key IS NOT NULL;
      CREATE INDEX invocations_function_stats ON invocations(function, created_at, status, duration_ms, cold);
      CREATE INDEX invocations_created ON invocations(created_at, seq);
      CREATE INDEX invocations_schedule ON invocations(schedule_id, status) WHERE schedule_id IS NOT NULL;
      CREATE INDEX invocations_callbacks ON invocations(callback_next_at) WHERE callback_state = 'pending';
      CREATE TABLE invocation_attempts (
        invocation_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        version INTEGER,
        started_at BIGINT NOT NULL,
        finished_at BIGINT,
        duration_ms DOUBLE PRECISION,
        status_code INTEGER,
        outcome TEXT,
        cold BOOLEAN,
        error TEXT,
        PRIMARY KEY (invocation_id, attempt)
      );
      CREATE TABLE callback_deliveries (
        id BIGSERIAL PRIMARY KEY,
        invocation_id TEXT NOT NULL REFERENCES invocations(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER,
        error TEXT
      );
      CREATE INDEX callback_deliveries_invocation ON callback_deliveries(invocation_id, id);
      CREATE TABLE schedules (
        id TEXT COLLATE "C" PRIMARY KEY,
        function TEXT COLLATE "C" NOT NULL,
        source TEXT NOT NULL,
        cron TEXT NOT NULL,
        tz TEXT,
        data TEXT,
        overlap TEXT NOT NULL,
        catchup TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_tick_at BIGINT
      );
      CREATE INDEX schedules_function ON schedules(function);
      CREATE TABLE api_keys (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT,
        last_used_at BIGINT,
        revoked_at BIGINT
      );
      CREATE TABLE secrets (
        function TEXT NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        ciphertext BYTEA NOT NULL,
        key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (function, name)
      );
      CREATE TABLE audit_log (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
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
      CREATE TABLE plugin_kv (
        function TEXT NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (function, key)
      );
      CREATE TABLE plugin_docs (
        id TEXT COLLATE "C" PRIMARY KEY,
        collection TEXT NOT NULL,
        doc TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX plugin_docs_collection ON plugin_docs(collection, created_at, id);
      CREATE INDEX plugin_docs_created_by ON plugin_docs(created_by);
      CREATE TABLE plugin_usage (
        function TEXT NOT NULL,
        plugin TEXT NOT NULL,
        items BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        PRIMARY KEY (function, plugin)
      );
    `,
  },
  {
    version: 2,
    name: 'aliases, the AWS credentials of keys, the alias of each invocation',
    sql: `
      CREATE TABLE aliases (
        function TEXT COLLATE "C" NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
        name TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        canary_version INTEGER,
        canary_weight DOUBLE PRECISION,
        description TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (function, name)
      );
      CREATE TABLE aws_credentials (
        access_key_id TEXT COLLATE "C" PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
        secret BYTEA NOT NULL,
        box_key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      ALTER TABLE invocations ADD COLUMN alias TEXT;
      `,
  },
  {
    version: 3,
    name: 'cluster: change feed, build blobs, leases, claimed cron ticks, the node of each run',
    sql: `
      CREATE TABLE cluster_changes (
        seq BIGSERIAL PRIMARY KEY,
        function TEXT NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE TABLE cluster_builds (
        hash TEXT COLLATE "C" PRIMARY KEY,
        sha256 TEXT NOT NULL,
        size BIGINT NOT NULL,
        blob BYTEA NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE cluster_leases (
        name TEXT COLLATE "C" PRIMARY KEY,
        owner TEXT NOT NULL,
        until BIGINT NOT NULL
      );
      CREATE TABLE cron_ticks (
        schedule_id TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        claimed_at BIGINT NOT NULL,
        PRIMARY KEY (schedule_id, due_at)
      );
      ALTER TABLE invocations ADD COLUMN node TEXT;
    `,
  },
  {
    version: 4,
    name: 'the node of each attempt',
    sql: `
      ALTER TABLE invocation_attempts ADD COLUMN node TEXT;
      `,
  },
  {
    version: 5,
    name: 'API routes (METHOD /path → function, from SAM Api/HttpApi events)',
    sql: `
      CREATE TABLE api_routes (
        method TEXT COLLATE "C" NOT NULL,
        path TEXT COLLATE "C" NOT NULL,
        function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (method, path)
      );
      CREATE INDEX api_routes_function ON api_routes(function);
    `,
  },
  {
    version: 6,
    name: 'the tick key of a cron invocation (storing the invocation claims the tick); cron_ticks dropped',
    // Partial: only cron rows carry a key, so the index stays as small as their number.
    sql: `
      ALTER TABLE invocations ADD COLUMN tick_key TEXT COLLATE "C";
      CREATE UNIQUE INDEX invocations_tick_key ON invocations(tick_key) WHERE tick_key IS NOT NULL;
      DROP TABLE cron_ticks;
    `,
  },
];
