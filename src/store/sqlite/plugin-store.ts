/** PluginStore on the server's SQLite database (tables of migrations 4 and 5). */
import { randomBytes } from 'node:crypto';
import {
  quotaRefusal,
  type PluginStore,
  type PluginUsage,
  type QuotaRefusal,
  type StoredDoc,
} from '../plugin-store.ts';
import { SqliteStatements } from './statements.ts';

type Row = Record<string, unknown>;

/** SQLite PluginStore. */
export class SqlitePluginStore extends SqliteStatements implements PluginStore {
  async kvGet(fn: string, key: string): Promise<string | undefined> {
    const row = this.prepare('SELECT value FROM plugin_kv WHERE function = ? AND key = ?').get(fn, key) as
      Row | undefined;
    return row ? String(row.value) : undefined;
  }

  async kvSet(
    fn: string,
    key: string,
    json: string,
    now: number,
    quota: PluginUsage,
  ): Promise<QuotaRefusal | undefined> {
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

  async kvDelete(fn: string, key: string): Promise<boolean> {
    return this.transaction(() => {
      const row = this.prepare(
        'DELETE FROM plugin_kv WHERE function = ? AND key = ? RETURNING length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS size',
      ).get(fn, key) as Row | undefined;
      if (row) this.addUsage(fn, 'kv', { items: -1, bytes: -Number(row.size) });
      return row !== undefined;
    });
  }

  async kvList(fn: string, prefix: string, limit: number): Promise<{ key: string; json: string }[]> {
    // substr rather than LIKE: a prefix may contain % or _.
    const rows = this.prepare(
      'SELECT key, value FROM plugin_kv WHERE function = ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?',
    ).all(fn, prefix.length, prefix, limit) as Row[];
    return rows.map((r) => ({ key: String(r.key), json: String(r.value) }));
  }

  async docInsert(
    collection: string,
    docs: readonly string[],
    createdBy: string,
    now: number,
    quota: PluginUsage,
  ): Promise<string[] | QuotaRefusal> {
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

  async *docRows(collection: string): AsyncIterable<StoredDoc> {
    yield* this.docRowsSync(collection);
  }

  /** docRows read synchronously: the docs scanner's worker thread scans with it (SQLite only). */
  *docRowsSync(collection: string): Iterable<StoredDoc> {
    // Not a cached statement: a scan in progress must not share its cursor with another.
    const stmt = this.db.prepare(
      'SELECT id, doc FROM plugin_docs WHERE collection = ? ORDER BY created_at, id',
    );
    for (const r of stmt.iterate(collection) as Iterable<Row>)
      yield { id: String(r.id), json: String(r.doc) };
  }

  async docDelete(collection: string, ids: readonly string[]): Promise<number> {
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

  async usage(fn: string, plugin: 'kv' | 'docs'): Promise<PluginUsage> {
    return this.usageRow(fn, plugin);
  }

  async deleteFunctionData(fn: string): Promise<void> {
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
    return quotaRefusal(this.usageRow(fn, plugin), delta, quota);
  }

  private addUsage(fn: string, plugin: 'kv' | 'docs', delta: PluginUsage): void {
    this.prepare(
      `INSERT INTO plugin_usage (function, plugin, items, bytes) VALUES (?, ?, ?, ?)
       ON CONFLICT (function, plugin) DO UPDATE SET items = items + excluded.items, bytes = bytes + excluded.bytes`,
    ).run(fn, plugin, delta.items, delta.bytes);
  }

  private usageRow(fn: string, plugin: 'kv' | 'docs'): PluginUsage {
    const row = this.prepare('SELECT items, bytes FROM plugin_usage WHERE function = ? AND plugin = ?').get(
      fn,
      plugin,
    ) as Row | undefined;
    return row ? { items: Number(row.items), bytes: Number(row.bytes) } : { items: 0, bytes: 0 };
  }
}
