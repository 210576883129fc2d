/** FunctionStore on the server's SQLite database: functions, versions, version sources, log lines. */
import type { FunctionRecord, LogLine, VersionRecord } from '../../core/index.ts';
import type { FunctionStore, LogQuery, VersionSource } from '../functions.ts';
import { toFunction, toLogLine, toSource, toVersion, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite FunctionStore. */
export class SqliteFunctionStore extends SqliteStatements implements FunctionStore {
  async getFunction(name: string): Promise<FunctionRecord | undefined> {
    return this.functionRow(name);
  }

  async listFunctions(): Promise<FunctionRecord[]> {
    return (this.prepare('SELECT * FROM functions ORDER BY name').all() as Row[]).map(toFunction);
  }

  async nextVersion(name: string): Promise<number> {
    const row = this.prepare('SELECT last_version FROM functions WHERE name = ?').get(name) as
      Row | undefined;
    return Number(row?.last_version ?? 0) + 1;
  }

  async addVersion(v: VersionRecord): Promise<void> {
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

  async getVersion(name: string, version: number): Promise<VersionRecord | undefined> {
    return this.versionRow(name, version);
  }

  async listVersions(name: string): Promise<VersionRecord[]> {
    return (
      this.prepare('SELECT * FROM versions WHERE function = ? ORDER BY version').all(name) as Row[]
    ).map(toVersion);
  }

  async setActiveVersion(name: string, version: number, now: number): Promise<boolean> {
    if (!this.versionRow(name, version)) return false;
    const res = this.prepare('UPDATE functions SET active_version = ?, updated_at = ? WHERE name = ?').run(
      version,
      now,
      name,
    );
    return Number(res.changes) === 1;
  }

  async deleteFunction(name: string): Promise<boolean> {
    return this.transaction(() => {
      this.prepare('DELETE FROM logs WHERE function = ?').run(name);
      this.prepare('DELETE FROM versions WHERE function = ?').run(name);
      return Number(this.prepare('DELETE FROM functions WHERE name = ?').run(name).changes) === 1;
    });
  }

  async deleteVersions(name: string, versions: number[]): Promise<number> {
    const del = this.prepare('DELETE FROM versions WHERE function = ? AND version = ?');
    return this.transaction(() => {
      // The active version and every version an alias names are spared.
      const spared = new Set(
        (
          this.prepare(
            'SELECT version AS v FROM aliases WHERE function = ? UNION SELECT canary_version FROM aliases WHERE function = ? AND canary_version IS NOT NULL',
          ).all(name, name) as Row[]
        ).map((r) => Number(r.v)),
      );
      const active = this.functionRow(name)?.activeVersion;
      return versions
        .filter((v) => v !== active && !spared.has(v))
        .reduce((n, v) => n + Number(del.run(name, v).changes), 0);
    });
  }

  async buildInUse(buildDir: string): Promise<boolean> {
    return this.prepare('SELECT 1 FROM versions WHERE build_dir = ? LIMIT 1').get(buildDir) !== undefined;
  }

  async bundleInUse(bundleHash: string): Promise<boolean> {
    return this.prepare('SELECT 1 FROM versions WHERE bundle_hash = ? LIMIT 1').get(bundleHash) !== undefined;
  }

  async hashesInUse(hashes: readonly string[]): Promise<Set<string>> {
    if (!hashes.length) return new Set();
    const rows = this.prepare(
      'SELECT DISTINCT hash FROM versions WHERE hash IN (SELECT value FROM json_each(?))',
    ).all(JSON.stringify(hashes)) as Row[];
    return new Set(rows.map((r) => String(r.hash)));
  }

  async recordSource(s: VersionSource): Promise<void> {
    this.prepare(
      `INSERT OR REPLACE INTO version_sources (function, version, kind, repository, ref, commit_hash) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(s.function, s.version, s.kind, s.repository, s.ref, s.commit);
  }

  async getSource(fn: string, version: number): Promise<VersionSource | undefined> {
    const row = this.prepare('SELECT * FROM version_sources WHERE function = ? AND version = ?').get(
      fn,
      version,
    ) as Row | undefined;
    return row ? toSource(row) : undefined;
  }

  async appendLogs(lines: LogLine[]): Promise<void> {
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

  async queryLogs(q: LogQuery): Promise<LogLine[]> {
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

  async pruneLogs(maxPerFunction: number): Promise<number> {
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

  private functionRow(name: string): FunctionRecord | undefined {
    const row = this.prepare('SELECT * FROM functions WHERE name = ?').get(name) as Row | undefined;
    return row ? toFunction(row) : undefined;
  }

  private versionRow(name: string, version: number): VersionRecord | undefined {
    const row = this.prepare('SELECT * FROM versions WHERE function = ? AND version = ?').get(
      name,
      version,
    ) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }
}
