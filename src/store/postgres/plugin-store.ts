/**
 * PluginStore on PostgreSQL. A write that counts against a quota locks the function's usage row
 * first (SELECT … FOR UPDATE), so concurrent writes of one function — from one node or several —
 * are checked one after the other and a quota holds; writes of different functions do not wait on
 * each other.
 */
import { randomBytes } from 'node:crypto';
import {
  quotaRefusal,
  type PluginStore,
  type PluginUsage,
  type QuotaRefusal,
  type StoredDoc,
} from '../plugin-store.ts';
import type { Row } from '../rows.ts';
import type { PgQuery, PgSql } from './database.ts';

type Plugin = 'kv' | 'docs';

/** Documents read per round trip when scanning a collection. */
const SCAN_BATCH = 200;

/** PostgreSQL PluginStore. */
export class PgPluginStore implements PluginStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async kvGet(fn: string, key: string): Promise<string | undefined> {
    const [row] = await this.sql<Row[]>`SELECT value FROM plugin_kv WHERE function = ${fn} AND key = ${key}`;
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
    return this.sql.begin(async (tx) => {
      const usage = await lockUsage(tx, fn, 'kv');
      const [old] = await tx<Row[]>`SELECT octet_length(key) + octet_length(value) AS size FROM plugin_kv
        WHERE function = ${fn} AND key = ${key}`;
      const delta = { items: old ? 0 : 1, bytes: size - (old ? Number(old.size) : 0) };
      const refusal = quotaRefusal(usage, delta, quota);
      if (refusal) return refusal;
      await tx`INSERT INTO plugin_kv (function, key, value, updated_at) VALUES (${fn}, ${key}, ${json}, ${now})
        ON CONFLICT (function, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
      await addUsage(tx, fn, 'kv', delta);
      return undefined;
    });
  }

  async kvDelete(fn: string, key: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<Row[]>`DELETE FROM plugin_kv WHERE function = ${fn} AND key = ${key}
        RETURNING octet_length(key) + octet_length(value) AS size`;
      if (row) await addUsage(tx, fn, 'kv', { items: -1, bytes: -Number(row.size) });
      return row !== undefined;
    });
  }

  async kvList(fn: string, prefix: string, limit: number): Promise<{ key: string; json: string }[]> {
    // starts_with rather than LIKE: a prefix may contain % or _.
    const rows = await this.sql<Row[]>`SELECT key, value FROM plugin_kv
      WHERE function = ${fn} AND starts_with(key, ${prefix}) ORDER BY key LIMIT ${limit}`;
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
    return this.sql.begin(async (tx) => {
      const usage = await lockUsage(tx, createdBy, 'docs');
      const refusal = quotaRefusal(usage, { items: docs.length, bytes }, quota);
      if (refusal) return refusal;
      const rows = docs.map((doc) => ({
        // 24 hex digits, the shape of a MongoDB ObjectID that the lua action server's users expect.
        id: `${Math.floor(now / 1000)
          .toString(16)
          .padStart(8, '0')}${randomBytes(8).toString('hex')}`,
        collection,
        doc,
        created_by: createdBy,
        created_at: now,
      }));
      // A document is at most 1 MB and a call at most 1000 documents: one statement.
      await tx`INSERT INTO plugin_docs ${tx(rows, 'id', 'collection', 'doc', 'created_by', 'created_at')}`;
      await addUsage(tx, createdBy, 'docs', { items: docs.length, bytes });
      return rows.map((r) => r.id);
    });
  }

  async *docRows(collection: string): AsyncIterable<StoredDoc> {
    // A cursor: a scan holds one batch at a time, and stopping early (a reached limit) closes it.
    const query = this.sql<
      Row[]
    >`SELECT id, doc FROM plugin_docs WHERE collection = ${collection} ORDER BY created_at, id`;
    for await (const rows of query.cursor(SCAN_BATCH)) {
      for (const r of rows) yield { id: String(r.id), json: String(r.doc) };
    }
  }

  async docDelete(collection: string, ids: readonly string[]): Promise<number> {
    if (!ids.length) return 0;
    return this.sql.begin(async (tx) => {
      const rows = await tx<
        Row[]
      >`DELETE FROM plugin_docs WHERE collection = ${collection} AND id = ANY(${[...ids]}::text[])
        RETURNING created_by, octet_length(doc) AS size`;
      const owners = new Map<string, PluginUsage>();
      for (const row of rows) {
        const owner = owners.get(String(row.created_by)) ?? { items: 0, bytes: 0 };
        owner.items -= 1;
        owner.bytes -= Number(row.size);
        owners.set(String(row.created_by), owner);
      }
      for (const [fn, delta] of owners) await addUsage(tx, fn, 'docs', delta);
      return rows.length;
    });
  }

  async usage(fn: string, plugin: Plugin): Promise<PluginUsage> {
    const [row] = await this.sql<
      Row[]
    >`SELECT items, bytes FROM plugin_usage WHERE function = ${fn} AND plugin = ${plugin}`;
    return row ? { items: Number(row.items), bytes: Number(row.bytes) } : { items: 0, bytes: 0 };
  }

  async deleteFunctionData(fn: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`DELETE FROM plugin_kv WHERE function = ${fn}`;
      await tx`DELETE FROM plugin_docs WHERE created_by = ${fn}`;
      await tx`DELETE FROM plugin_usage WHERE function = ${fn}`;
    });
  }
}

/** The function's usage of `plugin`, its row locked until the transaction ends (made when missing). */
async function lockUsage(tx: PgQuery, fn: string, plugin: Plugin): Promise<PluginUsage> {
  await tx`INSERT INTO plugin_usage (function, plugin, items, bytes) VALUES (${fn}, ${plugin}, 0, 0) ON CONFLICT DO NOTHING`;
  const [row] = await tx<
    Row[]
  >`SELECT items, bytes FROM plugin_usage WHERE function = ${fn} AND plugin = ${plugin} FOR UPDATE`;
  return { items: Number(row?.items ?? 0), bytes: Number(row?.bytes ?? 0) };
}

async function addUsage(tx: PgQuery, fn: string, plugin: Plugin, delta: PluginUsage): Promise<void> {
  await tx`INSERT INTO plugin_usage (function, plugin, items, bytes) VALUES (${fn}, ${plugin}, ${delta.items}, ${delta.bytes})
    ON CONFLICT (function, plugin) DO UPDATE SET items = plugin_usage.items + excluded.items,
      bytes = plugin_usage.bytes + excluded.bytes`;
}
