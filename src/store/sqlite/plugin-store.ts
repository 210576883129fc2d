/** PluginStore on the server's SQLite database (tables of migration 4). */
import { randomBytes } from 'node:crypto';
import type { PluginStore, StoredDoc, VersionSource } from '../plugin-store.ts';
import { SqliteStatements } from './statements.ts';

type Row = Record<string, unknown>;

/** SQLite PluginStore. */
export class SqlitePluginStore extends SqliteStatements implements PluginStore {
  kvGet(fn: string, key: string): unknown {
    const row = this.prepare('SELECT value FROM plugin_kv WHERE function = ? AND key = ?').get(fn, key) as
      Row | undefined;
    return row ? (JSON.parse(String(row.value)) as unknown) : undefined;
  }

  kvSet(fn: string, key: string, value: unknown, now: number): void {
    this.prepare(
      `INSERT INTO plugin_kv (function, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (function, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ).run(fn, key, JSON.stringify(value), now);
  }

  kvDelete(fn: string, key: string): boolean {
    return (
      Number(this.prepare('DELETE FROM plugin_kv WHERE function = ? AND key = ?').run(fn, key).changes) > 0
    );
  }

  kvList(fn: string, prefix: string, limit: number): { key: string; value: unknown }[] {
    // substr rather than LIKE: a prefix may contain % or _.
    const rows = this.prepare(
      'SELECT key, value FROM plugin_kv WHERE function = ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?',
    ).all(fn, prefix.length, prefix, limit) as Row[];
    return rows.map((r) => ({ key: String(r.key), value: JSON.parse(String(r.value)) as unknown }));
  }

  docInsert(collection: string, doc: Record<string, unknown>, createdBy: string, now: number): string {
    // 24 hex digits, the shape of a MongoDB ObjectID that the lua action server's users expect.
    const id = `${Math.floor(now / 1000)
      .toString(16)
      .padStart(8, '0')}${randomBytes(8).toString('hex')}`;
    this.prepare(
      'INSERT INTO plugin_docs (id, collection, doc, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(id, collection, JSON.stringify(doc), createdBy, now);
    return id;
  }

  docScan(collection: string): StoredDoc[] {
    const rows = this.prepare(
      'SELECT id, doc FROM plugin_docs WHERE collection = ? ORDER BY created_at, id',
    ).all(collection) as Row[];
    return rows.map((r) => ({ id: String(r.id), doc: JSON.parse(String(r.doc)) as Record<string, unknown> }));
  }

  docDelete(collection: string, ids: string[]): number {
    let removed = 0;
    const stmt = this.prepare('DELETE FROM plugin_docs WHERE collection = ? AND id = ?');
    for (const id of ids) removed += Number(stmt.run(collection, id).changes);
    return removed;
  }

  recordSource(s: VersionSource): void {
    this.prepare(
      `INSERT OR REPLACE INTO version_sources (function, version, kind, repository, ref, commit_hash) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(s.function, s.version, s.kind, s.repository, s.ref, s.commit);
  }

  getSource(fn: string, version: number): VersionSource | undefined {
    const row = this.prepare('SELECT * FROM version_sources WHERE function = ? AND version = ?').get(
      fn,
      version,
    ) as Row | undefined;
    if (!row) return undefined;
    return {
      function: String(row.function),
      version: Number(row.version),
      kind: String(row.kind) as VersionSource['kind'],
      repository: row.repository === null ? null : String(row.repository),
      ref: row.ref === null ? null : String(row.ref),
      commit: row.commit_hash === null ? null : String(row.commit_hash),
    };
  }
}
