import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { test } from 'node:test';
import { openSqliteStores } from '../store/index.ts';
import { hashApiKey, keyIdOf, newApiKey } from './api-key.ts';
import { KeyRing } from './key-ring.ts';

function ring() {
  const store = openSqliteStores(':memory:');
  return { keys: new KeyRing({ store: store.keys, now: () => 1000 }), store };
}

test('a key is kumo_<12 hex id>_<43 base64url>, and only its sha256 is stored', async () => {
  const { keys, store } = ring();
  const { info, key } = await keys.create('ci', ['deploy'], null);
  assert.match(key, /^kumo_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal(keyIdOf(key), info.id);
  const rows = store.db.prepare('SELECT * FROM api_keys').all();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(key.slice(18)), 'the secret part is not stored');
  assert.equal(rows[0]?.hash, hashApiKey(key));
  assert.ok(!('hash' in info), 'the API never shows the hash');
  await store.close();
});

test('every check compares digests with crypto.timingSafeEqual, also for unknown ids and wrong secrets', async (t) => {
  const { keys, store } = ring();
  const { key } = await keys.create('ci', ['deploy'], null);
  const spy = t.mock.method(crypto, 'timingSafeEqual');
  // The module imported the function by name: make the named export see the spy.
  syncBuiltinESMExports();
  t.after(() => {
    spy.mock.restore();
    syncBuiltinESMExports();
  });
  const wrongSecret = `${key.slice(0, 18)}${'A'.repeat(43)}`;
  const unknownId = newApiKey().key;
  assert.deepEqual(await keys.check(key), { ok: true, key: await (await keys.list())[0] });
  assert.deepEqual(await keys.check(wrongSecret), { ok: false, reason: 'unknown', keyId: keyIdOf(key) });
  assert.deepEqual(await keys.check(unknownId), { ok: false, reason: 'unknown', keyId: keyIdOf(unknownId) });
  assert.equal(spy.mock.callCount(), 3, 'one constant-time comparison per check, whatever the outcome');
  for (const call of spy.mock.calls) {
    const [a, b] = call.arguments as [Buffer, Buffer];
    assert.equal(a.length, 32);
    assert.equal(b.length, 32);
  }
  await store.close();
});

test('missing, malformed, unknown and revoked keys are refused with their reason', async () => {
  const { keys, store } = ring();
  const admin = await keys.create('root', ['admin'], null);
  const ci = await keys.create('ci', ['deploy', 'read'], admin.info.id);
  assert.deepEqual(await keys.check(undefined), { ok: false, reason: 'missing', keyId: null });
  assert.deepEqual(await keys.check('hunter2'), { ok: false, reason: 'malformed', keyId: null });
  assert.equal((await keys.check(ci.key)).ok, true);
  await keys.revoke(ci.info.id);
  assert.deepEqual(await keys.check(ci.key), { ok: false, reason: 'revoked', keyId: ci.info.id });
  assert.equal((await keys.list()).find((k) => k.id === ci.info.id)?.createdBy, admin.info.id);
  await store.close();
});

test('the last active admin key cannot be revoked; unknown and revoked ids are refused', async () => {
  const { keys, store } = ring();
  const first = await keys.create('root', ['admin'], null);
  await assert.rejects(keys.revoke(first.info.id), { code: 'conflict' });
  const second = await keys.create('root2', ['admin'], first.info.id);
  await keys.revoke(first.info.id);
  await assert.rejects(keys.revoke(first.info.id), { code: 'conflict' });
  await assert.rejects(keys.revoke(second.info.id), { code: 'conflict' });
  await assert.rejects(keys.revoke('000000000000'), { code: 'key_not_found' });
  await store.close();
});

test('a key needs a valid name and at least one scope', async () => {
  const { keys, store } = ring();
  await assert.rejects(keys.create('has space', ['read'], null), { code: 'bad_request' });
  await assert.rejects(keys.create('ok', [], null), { code: 'bad_request' });
  await store.close();
});
