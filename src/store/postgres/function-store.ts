/** FunctionStore on PostgreSQL: functions, versions, version sources, log lines. */
import type { FunctionRecord, LogLine, VersionRecord } from '../../core/index.ts';
import type { FunctionStore, LogQuery, VersionSource } from '../functions.ts';
import { toFunction, toLogLine, toSource, toVersion, type Row } from '../rows.ts';
import type { PgSql } from './database.ts';
import { chunks, pgText, type PgValue } from './values.ts';

/** PostgreSQL FunctionStore. */
export class PgFunctionStore implements FunctionStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async getFunction(name: string): Promise<FunctionRecord | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM functions WHERE name = ${name}`;
    return row ? toFunction(row) : undefined;
  }

  async listFunctions(): Promise<FunctionRecord[]> {
    return (await this.sql<Row[]>`SELECT * FROM functions ORDER BY name`).map(toFunction);
  }

  async nextVersion(name: string): Promise<number> {
    const [row] = await this.sql<Row[]>`SELECT last_version FROM functions WHERE name = ${name}`;
    return Number(row?.last_version ?? 0) + 1;
  }

  async addVersion(v: VersionRecord): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`INSERT INTO functions (name, active_version, last_version, created_at, updated_at)
        VALUES (${v.function}, ${v.version}, ${v.version}, ${v.createdAt}, ${v.createdAt})
        ON CONFLICT (name) DO UPDATE SET active_version = excluded.active_version,
          last_version = GREATEST(functions.last_version, excluded.last_version), updated_at = excluded.updated_at`;
      await tx`INSERT INTO versions (function, version, hash, bundle_hash, spec, build_dir, build_log, created_at)
        VALUES (${v.function}, ${v.version}, ${v.hash}, ${v.bundleHash}, ${JSON.stringify(v.spec)}, ${v.buildDir},
          ${pgText(v.buildLog)}, ${v.createdAt})`;
    });
  }

  async getVersion(name: string, version: number): Promise<VersionRecord | undefined> {
    const [row] = await this.sql<
      Row[]
    >`SELECT * FROM versions WHERE function = ${name} AND version = ${version}`;
    return row ? toVersion(row) : undefined;
  }

  async listVersions(name: string): Promise<VersionRecord[]> {
    return (await this.sql<Row[]>`SELECT * FROM versions WHERE function = ${name} ORDER BY version`).map(
      toVersion,
    );
  }

  async setActiveVersion(name: string, version: number, now: number): Promise<boolean> {
    const res = await this.sql`UPDATE functions SET active_version = ${version}, updated_at = ${now}
      WHERE name = ${name} AND EXISTS (SELECT 1 FROM versions WHERE function = ${name} AND version = ${version})`;
    return res.count === 1;
  }

  async deleteFunction(name: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      await tx`DELETE FROM logs WHERE function = ${name}`;
      await tx`DELETE FROM versions WHERE function = ${name}`;
      return (await tx`DELETE FROM functions WHERE name = ${name}`).count === 1;
    });
  }

  async deleteVersions(name: string, versions: number[]): Promise<number> {
    if (!versions.length) return 0;
    // One statement: the active version and those aliases name are read and spared in the same snapshot as the delete.
    const res = await this
      .sql`DELETE FROM versions WHERE function = ${name} AND version = ANY(${versions}::integer[])
      AND version <> COALESCE((SELECT active_version FROM functions WHERE name = ${name}), -1)
      AND version NOT IN (SELECT version FROM aliases WHERE function = ${name}
        UNION SELECT canary_version FROM aliases WHERE function = ${name} AND canary_version IS NOT NULL)`;
    return res.count;
  }

  async buildInUse(buildDir: string): Promise<boolean> {
    return (await this.sql`SELECT 1 FROM versions WHERE build_dir = ${buildDir} LIMIT 1`).length > 0;
  }

  async bundleInUse(bundleHash: string): Promise<boolean> {
    return (await this.sql`SELECT 1 FROM versions WHERE bundle_hash = ${bundleHash} LIMIT 1`).length > 0;
  }

  async hashesInUse(hashes: readonly string[]): Promise<Set<string>> {
    if (!hashes.length) return new Set();
    const rows = await this.sql<
      Row[]
    >`SELECT DISTINCT hash FROM versions WHERE hash = ANY(${[...hashes]}::text[])`;
    return new Set(rows.map((r) => String(r.hash)));
  }

  async recordSource(s: VersionSource): Promise<void> {
    await this.sql`INSERT INTO version_sources (function, version, kind, repository, ref, commit_hash)
      VALUES (${s.function}, ${s.version}, ${s.kind}, ${s.repository}, ${s.ref}, ${s.commit})
      ON CONFLICT (function, version) DO UPDATE SET kind = excluded.kind, repository = excluded.repository,
        ref = excluded.ref, commit_hash = excluded.commit_hash`;
  }

  async getSource(fn: string, version: number): Promise<VersionSource | undefined> {
    const [row] = await this.sql<
      Row[]
    >`SELECT * FROM version_sources WHERE function = ${fn} AND version = ${version}`;
    return row ? toSource(row) : undefined;
  }

  async appendLogs(lines: LogLine[]): Promise<void> {
    if (!lines.length) return;
    await this.sql.begin(async (tx) => {
      for (const part of chunks(lines, 2000)) {
        const rows = part.map((l): Record<string, PgValue> => ({
          time: l.time,
          function: l.function,
          version: l.version,
          invocation_id: l.invocationId,
          stream: l.stream,
          line: pgText(l.line),
        }));
        const ids: Row[] =
          await tx`INSERT INTO logs ${tx(rows, 'time', 'function', 'version', 'invocation_id', 'stream', 'line')} RETURNING id`;
        // The rows of one VALUES list take the sequence's numbers in order: the smallest is the first line's.
        const sorted = ids.map((r) => Number(r.id)).sort((a, b) => a - b);
        part.forEach((l, i) => (l.id = sorted[i] ?? 0));
      }
    });
  }

  async queryLogs(q: LogQuery): Promise<LogLine[]> {
    const sql = this.sql;
    const rows = await sql<Row[]>`SELECT * FROM (
        SELECT * FROM logs WHERE function = ${q.function} AND time >= ${q.since ?? 0}
          AND time < ${q.until ?? Number.MAX_SAFE_INTEGER} AND id > ${q.afterId ?? 0}
          ${q.contains === undefined ? sql`` : sql`AND strpos(lower(line), lower(${pgText(q.contains)})) > 0`}
        ORDER BY id DESC LIMIT ${q.limit}) AS newest
      ORDER BY id`;
    return rows.map(toLogLine);
  }

  async pruneLogs(maxPerFunction: number): Promise<number> {
    let removed = 0;
    for (const { function: fn } of await this.sql<Row[]>`SELECT DISTINCT function FROM logs`) {
      const [cut] = await this.sql<Row[]>`SELECT id FROM logs WHERE function = ${String(fn)}
        ORDER BY id DESC LIMIT 1 OFFSET ${maxPerFunction}`;
      if (!cut) continue;
      removed += (await this.sql`DELETE FROM logs WHERE function = ${String(fn)} AND id <= ${Number(cut.id)}`)
        .count;
    }
    return removed;
  }
}
