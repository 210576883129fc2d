/**
 * API key records by id, held briefly in memory so a key check on the hot path does not wait for
 * the store (a network round trip on PostgreSQL). An entry is used for `ttlMs` after it was read;
 * the next check after that reads the store again (one check per key per TTL waits, concurrent
 * ones share that read). So a key revoked on another node stops working here within `ttlMs`; one
 * revoked through this node stops at once (forget()). Unknown ids are remembered too, so a
 * stranger repeating a made-up key costs no read either; at most `maxEntries` are held, the
 * oldest dropped first. When the store cannot be read, an entry read before keeps answering,
 * and it answers after STALE_ANSWER_MS when the store is slow to (a store outage must not hold
 * every control-plane request for the client's connect timeout).
 */

/** How long a check with an entry read before waits for the store before the old entry answers. */
const STALE_ANSWER_MS = 250;
import type { ApiKeyRecord } from '../core/index.ts';
import type { KeyStore } from '../store/index.ts';

/** Options of the cache. */
export interface KeyCacheOptions {
  store: KeyStore;
  now: () => number;
  /** How long an entry is used before the store is read again (ms). */
  ttlMs: number;
  /** Entries held at most. */
  maxEntries: number;
}

interface Entry {
  record: ApiKeyRecord | undefined;
  readAt: number;
}

/** Key records by id, with a short TTL. */
export class KeyCache {
  private readonly o: KeyCacheOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly reading = new Map<string, Promise<ApiKeyRecord | undefined>>();
  /** Bumped by forget(): a read that started before must not bring the forgotten record back. */
  private generation = 0;

  constructor(options: KeyCacheOptions) {
    this.o = options;
  }

  /** The record of key `id` (undefined when no such key exists), from memory while fresh. */
  get(id: string): Promise<ApiKeyRecord | undefined> | ApiKeyRecord | undefined {
    const entry = this.entries.get(id);
    if (entry && this.o.now() - entry.readAt < this.o.ttlMs) return entry.record;
    return this.orStale(this.reading.get(id) ?? this.read(id, entry), entry);
  }

  /** Drops `id` (it was revoked or created here): the next check reads the store. */
  forget(id: string): void {
    this.generation++;
    this.entries.delete(id);
    this.reading.delete(id);
  }

  private read(id: string, stale: Entry | undefined): Promise<ApiKeyRecord | undefined> {
    const generation = this.generation;
    const readAt = this.o.now();
    const read = this.o.store.getKey(id).then(
      (record) => {
        if (this.reading.get(id) === read) this.reading.delete(id);
        if (generation === this.generation) this.remember(id, { record, readAt });
        return record;
      },
      (err: unknown) => {
        if (this.reading.get(id) === read) this.reading.delete(id);
        // The store is unreachable: what was read before still stands, a key never seen is refused.
        if (stale) return stale.record;
        throw err;
      },
    );
    this.reading.set(id, read);
    return read;
  }

  /** `read`, or the entry read before when the store has not answered within STALE_ANSWER_MS. */
  private orStale(read: Promise<ApiKeyRecord | undefined>, stale: Entry | undefined) {
    if (!stale) return read;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ApiKeyRecord | undefined>((resolve) => {
      timer = setTimeout(() => resolve(stale.record), STALE_ANSWER_MS);
      timer.unref();
    });
    return Promise.race([read, late]).finally(() => clearTimeout(timer));
  }

  private remember(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.o.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
