/**
 * The default Store: one SQLite file in WAL mode through Node's built-in driver (node:sqlite),
 * so there is no native module to build on install.
 */
import { SqliteStatements } from './statements.ts';
import { DatabaseSync } from 'node:sqlite';
import type { FunctionRecord, FunctionSpec, LogLine, VersionRecord } from '../../core/index.ts';
import type { LogQuery, Store } from '../store.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

type Row = Record<string, unknown>;

/** Opens (and migrates) the SQLite store at `path` (":memory:" for tests). */
export function openSqliteStore(path: string, migrations: readonly Migration[] = MIGRATIONS): SqliteStore {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the last commits.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  migrate(db, migrations);
  return new SqliteStore(db);
}

/** Applies every migration newer than the database's version, each in its own transaction. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[]): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row | undefined;
  const current = Number(row?.v ?? 0);
  let applied = 0;
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
      db.exec('COMMIT');
      applied++;
    } catch (err) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return applied;
}

/** SQLite implementation of Store. */
export class SqliteStore extends SqliteStatements implements Store {
  /** The schema version the database is at. */
  schemaVersion(): number {
    const row = this.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row | undefined;
    return Number(row?.v ?? 0);
  }

  getFunction(name: string): FunctionRecord | undefined {
    const row = this.prepare('SELECT * FROM functions WHERE name = ?').get(name) as Row | undefined;
    return row ? toFunction(row) : undefined;
  }

  listFunctions(): FunctionRecord[] {
    return (this.prepare('SELECT * FROM functions ORDER BY name').all() as Row[]).map(toFunction);
  }

  nextVersion(name: string): number {
    const row = this.prepare('SELECT last_version FROM functions WHERE name = ?').get(name) as
      Row | undefined;
    return Number(row?.last_version ?? 0) + 1;
  }

  addVersion(v: VersionRecord): void {
    this.transaction(() => {
      this.prepare(
        `INSERT INTO functions (name, active_version, last_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET active_version = excluded.active_version,
           last_version = MAX(last_version, excluded.last_version), updated_at = excluded.updated_at`,
      ).run(v.function, v.version, v.version, v.createdAt, v.createdAt);
      this.prepare(
        `INSERT INTO versions (function, version, hash, bundle_hash, spec, build_dir, build_log, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        v.function,
        v.version,
        v.hash,
        v.bundleHash,
        JSON.stringify(v.spec),
        v.buildDir,
        v.buildLog,
        v.createdAt,
      );
    });
  }

  getVersion(name: string, version: number): VersionRecord | undefined {
    const row = this.prepare('SELECT * FROM versions WHERE function = ? AND version = ?').get(
      name,
      version,
    ) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  listVersions(name: string): VersionRecord[] {
    return (
      this.prepare('SELECT * FROM versions WHERE function = ? ORDER BY version').all(name) as Row[]
    ).map(toVersion);
  }

  setActiveVersion(name: string, version: number, now: number): boolean {
    if (!this.getVersion(name, version)) return false;
    const res = this.prepare('UPDATE functions SET active_version = ?, updated_at = ? WHERE name = ?').run(
      version,
      now,
      name,
    );
    return Number(res.changes) === 1;
  }

  deleteFunction(name: string): boolean {
    return this.transaction(() => {
      this.prepare('DELETE FROM logs WHERE function = ?').run(name);
      this.prepare('DELETE FROM versions WHERE function = ?').run(name);
      return Number(this.prepare('DELETE FROM functions WHERE name = ?').run(name).changes) === 1;
    });
  }

  deleteVersions(name: string, versions: number[]): number {
    const active = this.getFunction(name)?.activeVersion;
    const del = this.prepare('DELETE FROM versions WHERE function = ? AND version = ?');
    return this.transaction(() =>
      versions.filter((v) => v !== active).reduce((n, v) => n + Number(del.run(name, v).changes), 0),
    );
  }

  buildInUse(buildDir: string): boolean {
    return this.prepare('SELECT 1 FROM versions WHERE build_dir = ? LIMIT 1').get(buildDir) !== undefined;
  }

  bundleInUse(bundleHash: string): boolean {
    return this.prepare('SELECT 1 FROM versions WHERE bundle_hash = ? LIMIT 1').get(bundleHash) !== undefined;
  }

  appendLogs(lines: LogLine[]): void {
    if (!lines.length) return;
    const insert = this.prepare(
      'INSERT INTO logs (time, function, version, invocation_id, stream, line) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.transaction(() => {
      for (const l of lines) {
        const res = insert.run(l.time, l.function, l.version, l.invocationId, l.stream, l.line);
        l.id = Number(res.lastInsertRowid);
      }
    });
  }

  queryLogs(q: LogQuery): LogLine[] {
    const rows = this.prepare(
      `SELECT * FROM (SELECT * FROM logs WHERE function = ? AND time >= ? AND time < ? AND id > ?
         AND (? IS NULL OR instr(lower(line), lower(?)) > 0) ORDER BY id DESC LIMIT ?) ORDER BY id`,
    ).all(
      q.function,
      q.since ?? 0,
      q.until ?? Number.MAX_SAFE_INTEGER,
      q.afterId ?? 0,
      q.contains ?? null,
      q.contains ?? null,
      q.limit,
    ) as Row[];
    return rows.map(toLogLine);
  }

  pruneLogs(maxPerFunction: number): number {
    let removed = 0;
    const names = this.prepare('SELECT DISTINCT function FROM logs').all() as Row[];
    for (const { function: fn } of names) {
      const cut = this.prepare(
        'SELECT id FROM logs WHERE function = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
      ).get(String(fn), maxPerFunction) as Row | undefined;
      if (!cut) continue;
      removed += Number(
        this.prepare('DELETE FROM logs WHERE function = ? AND id <= ?').run(String(fn), Number(cut.id))
          .changes,
      );
    }
    return removed;
  }

  close(): void {
    this.clearStatements();
    if (this.db.isOpen) this.db.close();
  }
}

function toFunction(r: Row): FunctionRecord {
  return {
    name: String(r.name),
    activeVersion: Number(r.active_version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toVersion(r: Row): VersionRecord {
  return {
    function: String(r.function),
    version: Number(r.version),
    hash: String(r.hash),
    bundleHash: String(r.bundle_hash),
    spec: JSON.parse(String(r.spec)) as FunctionSpec,
    buildDir: String(r.build_dir),
    buildLog: String(r.build_log),
    createdAt: Number(r.created_at),
  };
}

function toLogLine(r: Row): LogLine {
  return {
    id: Number(r.id),
    time: Number(r.time),
    function: String(r.function),
    version: Number(r.version),
    invocationId: r.invocation_id === null ? null : String(r.invocation_id),
    stream: String(r.stream) as LogLine['stream'],
    line: String(r.line),
  };
}
