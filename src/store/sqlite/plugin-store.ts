/** PluginStore on the server's SQLite database (tables of migrations 4 and 5). */
import { randomBytes } from 'node:crypto';
import type { PluginStore, PluginUsage, QuotaRefusal, StoredDoc, VersionSource } from '../plugin-store.ts';
import { SqliteStatements } from './statements.ts';

type Row = Record<string, unknown>;

/** SQLite PluginStore. */
export class SqlitePluginStore extends SqliteStatements implements PluginStore {
  kvGet(fn: string, key: string): string | undefined {
    const row = this.prepare('SELECT value FROM plugin_kv WHERE function = ? AND key = ?').get(fn, key) as
      Row | undefined;
    return row ? String(row.value) : undefined;
  }

  kvSet(fn: string, key: string, json: string, now: number, quota: PluginUsage): QuotaRefusal | undefined {
    const size = Buffer.byteLength(key) + Buffer.byteLength(json);
    return this.transaction(() => {
      const old = this.prepare(
        'SELECT length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS size FROM plugin_kv WHERE function = ? AND key = ?',
      ).get(fn, key) as Row | undefined;
      const delta = { items: old ? 0 : 1, bytes: size - (old ? Number(old.size) : 0) };
      const refusal = this.overQuota(fn, 'kv', delta, quota);
      if (refusal) return refusal;
      this.prepare(
        `INSERT INTO plugin_kv (function, key, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (function, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(fn, key, json, now);
      this.addUsage(fn, 'kv', delta);
      return undefined;
    });
  }

  kvDelete(fn: string, key: string): boolean {
    return this.transaction(() => {
      const row = this.prepare(
        'DELETE FROM plugin_kv WHERE function = ? AND key = ? RETURNING length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS size',
      ).get(fn, key) as Row | undefined;
      if (row) this.addUsage(fn, 'kv', { items: -1, bytes: -Number(row.size) });
      return row !== undefined;
    });
  }

  kvList(fn: string, prefix: string, limit: number): { key: string; json: string }[] {
    // substr rather than LIKE: a prefix may contain % or _.
    const rows = this.prepare(
      'SELECT key, value FROM plugin_kv WHERE function = ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?',
    ).all(fn, prefix.length, prefix, limit) as Row[];
    return rows.map((r) => ({ key: String(r.key), json: String(r.value) }));
  }

  docInsert(
    collection: string,
    docs: readonly string[],
    createdBy: string,
    now: number,
    quota: PluginUsage,
  ): string[] | QuotaRefusal {
    const bytes = docs.reduce((sum, d) => sum + Buffer.byteLength(d), 0);
    return this.transaction(() => {
      const refusal = this.overQuota(createdBy, 'docs', { items: docs.length, bytes }, quota);
      if (refusal) return refusal;
      const insert = this.prepare(
        'INSERT INTO plugin_docs (id, collection, doc, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
      );
      const ids = docs.map((doc) => {
        // 24 hex digits, the shape of a MongoDB ObjectID that the lua action server's users expect.
        const id = `${Math.floor(now / 1000)
          .toString(16)
          .padStart(8, '0')}${randomBytes(8).toString('hex')}`;
        insert.run(id, collection, doc, createdBy, now);
        return id;
      });
      this.addUsage(createdBy, 'docs', { items: docs.length, bytes });
      return ids;
    });
  }

  *docRows(collection: string): Iterable<StoredDoc> {
    // Not a cached statement: a scan in progress must not share its cursor with another.
    const stmt = this.db.prepare(
      'SELECT id, doc FROM plugin_docs WHERE collection = ? ORDER BY created_at, id',
    );
    for (const r of stmt.iterate(collection) as Iterable<Row>)
      yield { id: String(r.id), json: String(r.doc) };
  }

  docDelete(collection: string, ids: readonly string[]): number {
    return this.transaction(() => {
      const owners = new Map<string, PluginUsage>();
      const stmt = this.prepare(
        'DELETE FROM plugin_docs WHERE collection = ? AND id = ? RETURNING created_by, length(CAST(doc AS BLOB)) AS size',
      );
      let removed = 0;
      for (const id of ids) {
        const row = stmt.get(collection, id) as Row | undefined;
        if (!row) continue;
        removed++;
        const owner = owners.get(String(row.created_by)) ?? { items: 0, bytes: 0 };
        owner.items -= 1;
        owner.bytes -= Number(row.size);
        owners.set(String(row.created_by), owner);
      }
      for (const [fn, delta] of owners) this.addUsage(fn, 'docs', delta);
      return removed;
    });
  }

  usage(fn: string, plugin: 'kv' | 'docs'): PluginUsage {
    const row = this.prepare('SELECT items, bytes FROM plugin_usage WHERE function = ? AND plugin = ?').get(
      fn,
      plugin,
    ) as Row | undefined;
    return row ? { items: Number(row.items), bytes: Number(row.bytes) } : { items: 0, bytes: 0 };
  }

  deleteFunctionData(fn: string): void {
    this.transaction(() => {
      this.prepare('DELETE FROM plugin_kv WHERE function = ?').run(fn);
      this.prepare('DELETE FROM plugin_docs WHERE created_by = ?').run(fn);
      this.prepare('DELETE FROM plugin_usage WHERE function = ?').run(fn);
    });
  }

  private overQuota(
    fn: string,
    plugin: 'kv' | 'docs',
    delta: PluginUsage,
    quota: PluginUsage,
  ): QuotaRefusal | undefined {
    const now = this.usage(fn, plugin);
    const next = { items: now.items + delta.items, bytes: now.bytes + delta.bytes };
    // Shrinking is always allowed, even over a quota that was lowered after the data was stored.
    const grows = delta.items > 0 || delta.bytes > 0;
    return grows && (next.items > quota.items || next.bytes > quota.bytes) ? { refused: next } : undefined;
  }

  private addUsage(fn: string, plugin: 'kv' | 'docs', delta: PluginUsage): void {
    this.prepare(
      `INSERT INTO plugin_usage (function, plugin, items, bytes) VALUES (?, ?, ?, ?)
       ON CONFLICT (function, plugin) DO UPDATE SET items = items + excluded.items, bytes = bytes + excluded.bytes`,
    ).run(fn, plugin, delta.items, delta.bytes);
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
