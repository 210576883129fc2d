import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiKeyRecord } from '../core/index.ts';
import { openSqliteStores, type KeyStore } from '../store/index.ts';
import { KeyCache } from './key-cache.ts';
import { KEY_CACHE_TTL_MS, KeyRing } from './key-ring.ts';

/** A key store that counts its reads and can be made to fail. */
function countingStore(inner: KeyStore) {
  const counts = { reads: 0 };
  let down = false;
  const store: KeyStore = {
    ...inner,
    insertKey: (k) => inner.insertKey(k),
    listKeys: () => inner.listKeys(),
    countKeys: () => inner.countKeys(),
    revokeKey: (id, at) => inner.revokeKey(id, at),
    touchKey: (id, at) => inner.touchKey(id, at),
    getKey: async (id) => {
      counts.reads++;
      if (down) throw new Error('store down');
      return inner.getKey(id);
    },
  };
  return { store, counts, setDown: (v: boolean) => (down = v) };
}

test('a key revoked through another node stops working within the cache TTL; through this node at once', async () => {
  const db = openSqliteStores(':memory:');
  let now = 1000;
  // Two nodes on one store: each has its own ring (and cache).
  const a = new KeyRing({ store: db.keys, now: () => now });
  const b = new KeyRing({ store: db.keys, now: () => now });
  await a.create('admin', ['admin'], null);
  const { info, key } = await a.create('ci', ['invoke'], null);
  assert.equal((await b.check(key)).ok, true);
  await a.revoke(info.id);
  assert.deepEqual(
    await a.check(key),
    { ok: false, reason: 'revoked', keyId: info.id },
    'at once where revoked',
  );
  now += KEY_CACHE_TTL_MS - 1;
  assert.equal((await b.check(key)).ok, true, 'the other node still trusts its copy within the TTL');
  now += 1;
  assert.deepEqual(await b.check(key), { ok: false, reason: 'revoked', keyId: info.id }, 'and not after it');
  await db.close();
});

test('checks within the TTL read the store once per key, unknown ids included; concurrent ones share a read', async () => {
  const db = openSqliteStores(':memory:');
  const { store, counts } = countingStore(db.keys);
  let now = 0;
  const ring = new KeyRing({ store, now: () => now });
  const { key } = await ring.create('ci', ['invoke'], null);
  const reads = counts.reads;
  const checks = await Promise.all(Array.from({ length: 50 }, () => ring.check(key)));
  assert.ok(checks.every((c) => c.ok));
  assert.equal(counts.reads - reads, 1, '50 concurrent checks, one read');
  const stranger = 'kumo_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  for (let i = 0; i < 20; i++) assert.equal((await ring.check(stranger)).ok, false);
  assert.equal(counts.reads - reads, 2, 'a repeated unknown id is read once');
  now += KEY_CACHE_TTL_MS;
  await ring.check(key);
  assert.equal(counts.reads - reads, 3, 'after the TTL the store is read again');
  await db.close();
});

test('the cache holds at most its bound, and a record read before stands while the store is down', async () => {
  const db = openSqliteStores(':memory:');
  const { store, setDown } = countingStore(db.keys);
  let now = 0;
  const cache = new KeyCache({ store, now: () => now, ttlMs: 100, maxEntries: 3 });
  const record: ApiKeyRecord = {
    id: 'k1',
    name: 'k',
    scopes: ['invoke'],
    hash: 'h',
    createdAt: 0,
    createdBy: null,
    lastUsedAt: null,
    revokedAt: null,
  };
  await db.keys.insertKey(record);
  assert.deepEqual(await cache.get('k1'), record);
  for (const id of ['x1', 'x2', 'x3']) assert.equal(await cache.get(id), undefined);
  // k1 was the oldest of four: it was dropped, so this reads again.
  setDown(true);
  await assert.rejects(Promise.resolve(cache.get('k1')), /store down/, 'never seen (any more): refused');
  setDown(false);
  assert.deepEqual(await cache.get('k1'), record);
  now += 200;
  setDown(true);
  assert.deepEqual(await cache.get('k1'), record, 'stale but the store is down: the record read before');
  await db.close();
});
