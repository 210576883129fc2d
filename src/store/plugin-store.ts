/**
 * Persistence of the built-in plugins and of where versions came from. `kv` data is namespaced by
 * function; `docs` collections are one database shared by the functions that list the plugin (as
 * the lua action server's mongo plugin). Values and documents are stored as JSON text.
 */

/** One stored document. */
export interface StoredDoc {
  id: string;
  doc: Record<string, unknown>;
}

/** Where a version's source came from (git deploys record the commit). */
export interface VersionSource {
  function: string;
  version: number;
  kind: 'upload' | 'zip' | 'git' | 'watch';
  repository: string | null;
  ref: string | null;
  commit: string | null;
}

/** The plugin and source persistence contract. */
export interface PluginStore {
  kvGet(fn: string, key: string): unknown;
  kvSet(fn: string, key: string, value: unknown, now: number): void;
  /** True when the key existed. */
  kvDelete(fn: string, key: string): boolean;
  /** Keys (with values) of `fn` starting with `prefix`, sorted, at most `limit`. */
  kvList(fn: string, prefix: string, limit: number): { key: string; value: unknown }[];

  docInsert(collection: string, doc: Record<string, unknown>, createdBy: string, now: number): string;
  /** Every document of a collection, oldest first (filtering is the plugin's). */
  docScan(collection: string): StoredDoc[];
  /** Removes the documents with these ids from the collection; returns how many. */
  docDelete(collection: string, ids: string[]): number;

  recordSource(source: VersionSource): void;
  getSource(fn: string, version: number): VersionSource | undefined;
}
