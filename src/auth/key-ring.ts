/**
 * The API keys of a server: creating (the key is returned once), listing, revoking, and checking a
 * presented key in constant time. Every key is looked up by its public id and then compared by
 * hash with timingSafeEqual; an unknown id is compared against a dummy hash so that it costs the
 * same as a known one.
 */
import {
  KEY_NAME,
  KumoError,
  SCOPES,
  type ApiKeyInfo,
  type ApiKeyRecord,
  type Scope,
} from '../core/index.ts';
import type { KeyStore } from '../store/index.ts';
import { hashApiKey, hashesEqual, keyIdOf, newApiKey } from './api-key.ts';
import { KeyCache } from './key-cache.ts';

/** Why a presented key was refused. */
export type KeyRefusal = 'missing' | 'malformed' | 'unknown' | 'revoked';

/** The result of checking a presented key. */
export type KeyCheck =
  { ok: true; key: ApiKeyInfo } | { ok: false; reason: KeyRefusal; keyId: string | null };

/** A key just created: the record to show and the key itself, which is never available again. */
export interface CreatedKey {
  info: ApiKeyInfo;
  key: string;
}

/** Options of the key ring. */
export interface KeyRingOptions {
  store: KeyStore;
  now: () => number;
  /** How often `lastUsedAt` is written per key: every request would be a write on the hot path. */
  touchEveryMs?: number;
  /**
   * How long a key check trusts a key record read before (default KEY_CACHE_TTL_MS): a key revoked
   * through another node stops working here within this.
   */
  cacheTtlMs?: number;
  random?: (n: number) => Buffer;
  /** Told when writing `lastUsedAt` failed (the check itself does not wait for that write). */
  onTouchError?: (err: unknown) => void;
}

/** Default time a key record is trusted from memory (ms): revocation takes effect on every node within it. */
export const KEY_CACHE_TTL_MS = 5000;

/** A stand-in digest to compare against when the id is unknown. */
const DUMMY_HASH = hashApiKey('kumo_000000000000_unknown-key-stand-in');

/** The API keys. */
export class KeyRing {
  private readonly o: KeyRingOptions;
  private readonly touched = new Map<string, number>();
  private readonly cache: KeyCache;

  constructor(options: KeyRingOptions) {
    this.o = options;
    this.cache = new KeyCache({
      store: options.store,
      now: options.now,
      ttlMs: options.cacheTtlMs ?? KEY_CACHE_TTL_MS,
      maxEntries: 10_000,
    });
  }

  /** Creates a key; `createdBy` is the id of the key that asked (null at first start). */
  async create(name: string, scopes: readonly Scope[], createdBy: string | null): Promise<CreatedKey> {
    if (!KEY_NAME.test(name)) {
      throw new KumoError(
        'bad_request',
        `key name ${JSON.stringify(name)} must be 1-64 of letters, digits, ".", "_", "@" and "-", starting with a letter or digit`,
      );
    }
    if (scopes.length === 0)
      throw new KumoError('bad_request', `a key needs at least one scope (${SCOPES.join(', ')})`);
    let made = newApiKey(this.o.random);
    // 48 random bits make a collision unlikely, not impossible: draw again rather than fail.
    while (await this.o.store.getKey(made.id)) made = newApiKey(this.o.random);
    const record: ApiKeyRecord = {
      id: made.id,
      name,
      scopes: SCOPES.filter((s) => scopes.includes(s)),
      hash: made.hash,
      createdAt: this.o.now(),
      createdBy,
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.o.store.insertKey(record);
    this.cache.forget(record.id);
    return { info: publicKey(record), key: made.key };
  }

  /** Every key, revoked ones included, without hashes. */
  async list(): Promise<ApiKeyInfo[]> {
    return (await this.o.store.listKeys()).map(publicKey);
  }

  /** Whether any key was ever created. */
  async isEmpty(): Promise<boolean> {
    return (await this.o.store.countKeys()) === 0;
  }

  /** Revokes `id`; refuses to revoke the last active admin key, which would lock everyone out. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    const key = await this.o.store.getKey(id);
    if (!key)
      throw new KumoError(
        'key_not_found',
        `no API key has the id ${JSON.stringify(id)} (see kumo keys list)`,
      );
    if (key.revokedAt !== null) throw new KumoError('conflict', `key ${id} (${key.name}) is already revoked`);
    if (key.scopes.includes('admin')) {
      const admins = (await this.o.store.listKeys()).filter(
        (k) => k.revokedAt === null && k.scopes.includes('admin'),
      );
      if (admins.length <= 1) {
        throw new KumoError(
          'conflict',
          `key ${id} (${key.name}) is the last admin key: create another admin key before revoking it`,
        );
      }
    }
    await this.o.store.revokeKey(id, this.o.now());
    this.cache.forget(id);
    this.touched.delete(id);
    return publicKey({ ...key, revokedAt: this.o.now() });
  }

  /** Checks a presented key (undefined when the request had none). Constant-time in the secret part. */
  async check(presented: string | undefined): Promise<KeyCheck> {
    if (presented === undefined) return { ok: false, reason: 'missing', keyId: null };
    const id = keyIdOf(presented);
    const record = id === undefined ? undefined : await this.cache.get(id);
    const matches = hashesEqual(hashApiKey(presented), record?.hash ?? DUMMY_HASH);
    if (id === undefined) return { ok: false, reason: 'malformed', keyId: null };
    if (!record || !matches) return { ok: false, reason: 'unknown', keyId: id };
    if (record.revokedAt !== null) return { ok: false, reason: 'revoked', keyId: id };
    this.touch(id);
    return { ok: true, key: publicKey(record) };
  }

  /** Whether key `id` exists and is not revoked (a request signed with its AWS credential). */
  async checkId(id: string): Promise<KeyCheck> {
    const record = id ? await this.cache.get(id) : undefined;
    if (!record) return { ok: false, reason: 'unknown', keyId: id || null };
    if (record.revokedAt !== null) return { ok: false, reason: 'revoked', keyId: id };
    this.touch(id);
    return { ok: true, key: publicKey(record) };
  }

  /** Records when the key was last used, at most every touchEveryMs, without making the check wait. */
  private touch(id: string): void {
    const now = this.o.now();
    const last = this.touched.get(id) ?? 0;
    if (now - last < (this.o.touchEveryMs ?? 60_000)) return;
    this.touched.set(id, now);
    this.o.store.touchKey(id, now).catch((err: unknown) => this.o.onTouchError?.(err));
  }
}

/** A key record without its hash. */
function publicKey(k: ApiKeyRecord): ApiKeyInfo {
  return {
    id: k.id,
    name: k.name,
    scopes: k.scopes,
    createdAt: k.createdAt,
    createdBy: k.createdBy,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}
