/**
 * Persistence of the built-in plugins. `kv` data is namespaced by function; `docs` collections
 * are one database shared by the functions that list the plugin (as the lua action server's mongo
 * plugin), and each document belongs to the function that inserted it. Values and documents are
 * stored as JSON text. What each function keeps is counted (entries and bytes, in the same
 * transaction as every write), so a quota is checked without a scan.
 */

/** One stored document, as JSON text. */
export interface StoredDoc {
  id: string;
  json: string;
}

/** What a function's data in one plugin takes: entries (keys, documents) and bytes (UTF-8). */
export interface PluginUsage {
  items: number;
  bytes: number;
}

/** A write refused by its quota: the usage it would have reached. Nothing was written. */
export interface QuotaRefusal {
  refused: PluginUsage;
}

/** The refusal of a write that would take `usage` by `delta` past `quota`; undefined when it fits. */
export function quotaRefusal(
  usage: PluginUsage,
  delta: PluginUsage,
  quota: PluginUsage,
): QuotaRefusal | undefined {
  const next = { items: usage.items + delta.items, bytes: usage.bytes + delta.bytes };
  // Shrinking is always allowed, even over a quota that was lowered after the data was stored.
  const grows = delta.items > 0 || delta.bytes > 0;
  return grows && (next.items > quota.items || next.bytes > quota.bytes) ? { refused: next } : undefined;
}

/** The plugin data persistence contract. */
export interface PluginStore {
  /** The value of `key` as JSON text, or undefined. */
  kvGet(fn: string, key: string): Promise<string | undefined>;
  /** Stores `json` (a value as JSON text) unless that takes `fn` past `quota` (items: keys). */
  kvSet(
    fn: string,
    key: string,
    json: string,
    now: number,
    quota: PluginUsage,
  ): Promise<QuotaRefusal | undefined>;
  /** True when the key existed. */
  kvDelete(fn: string, key: string): Promise<boolean>;
  /** Keys (with values as JSON text) of `fn` starting with `prefix`, sorted, at most `limit`. */
  kvList(fn: string, prefix: string, limit: number): Promise<{ key: string; json: string }[]>;

  /** Inserts documents (JSON objects as text) for `createdBy` unless that takes it past `quota`; their ids. */
  docInsert(
    collection: string,
    docs: readonly string[],
    createdBy: string,
    now: number,
    quota: PluginUsage,
  ): Promise<string[] | QuotaRefusal>;
  /** The documents of a collection, oldest first, read one at a time (filtering is the plugin's). */
  docRows(collection: string): AsyncIterable<StoredDoc>;
  /** Removes the documents with these ids from the collection (their owners' usage drops); returns how many. */
  docDelete(collection: string, ids: readonly string[]): Promise<number>;

  /** What `fn` keeps in `plugin` (kv, docs). */
  usage(fn: string, plugin: 'kv' | 'docs'): Promise<PluginUsage>;
  /** Removes everything `fn` keeps: its kv keys and the documents it inserted (it was deleted). */
  deleteFunctionData(fn: string): Promise<void>;
}
