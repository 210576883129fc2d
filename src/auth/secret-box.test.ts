import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openSqliteStores } from '../store/index.ts';
import { FunctionSecrets } from './function-secrets.ts';
import { loadMasterKey, SecretBox } from './secret-box.ts';
import { secretMasker } from './secret-mask.ts';

test('a sealed value opens only with the same key and the same function and name', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal(Buffer.from('s3cr3t-value'), 'kumo-secret:api/TOKEN');
  assert.ok(!sealed.includes(Buffer.from('s3cr3t-value')));
  assert.equal(box.open(sealed, 'kumo-secret:api/TOKEN').toString(), 's3cr3t-value');
  assert.throws(() => box.open(sealed, 'kumo-secret:other/TOKEN'), { code: 'secrets_unavailable' });
  assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'kumo-secret:api/TOKEN'), {
    code: 'secrets_unavailable',
  });
  const flipped = Buffer.from(sealed);
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
  assert.throws(() => box.open(flipped, 'kumo-secret:api/TOKEN'), { code: 'secrets_unavailable' });
});

test('the master key file is created once with mode 0600 and read back the same', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-key-'));
  try {
    const file = path.join(dir, 'secrets.key');
    const first = await loadMasterKey({ file });
    assert.equal(first.created, true);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await loadMasterKey({ file });
    assert.equal(again.created, false);
    assert.deepEqual(again.key, first.key);
    assert.equal((await readFile(file, 'utf8')).trim(), first.key.toString('base64'));
    const inline = await loadMasterKey({
      file: path.join(dir, 'unused'),
      inline: randomBytes(32).toString('hex'),
    });
    assert.equal(inline.key.length, 32);
    await assert.rejects(loadMasterKey({ file, inline: 'c2hvcnQ=' }), { code: 'bad_request' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('secrets are stored as ciphertext, listed by name, opened for the environment, and name a key mismatch', async () => {
  const store = openSqliteStores(':memory:');
  const secretStore = store.secrets;
  const secrets = new FunctionSecrets({
    store: secretStore,
    box: new SecretBox(randomBytes(32)),
    now: () => 5,
  });
  assert.equal((await secrets.set('api', 'TOKEN', Buffer.from('tok-123456'))).created, true);
  assert.equal((await secrets.set('api', 'TOKEN', Buffer.from('tok-654321'))).created, false);
  assert.ok(!JSON.stringify(store.db.prepare('SELECT * FROM secrets').all()).includes('tok-654321'));
  assert.deepEqual(await secrets.list('api'), [{ name: 'TOKEN', createdAt: 5, updatedAt: 5 }]);
  assert.deepEqual(await secrets.environment('api'), { TOKEN: 'tok-654321' });
  await assert.rejects(secrets.set('api', 'KUMO_SOCKET', Buffer.from('x')), { code: 'bad_request' });
  await assert.rejects(secrets.set('api', 'BAD-NAME', Buffer.from('x')), { code: 'bad_request' });
  await assert.rejects(secrets.set('api', 'NUL', Buffer.from('a\0b')), { code: 'bad_request' });
  await assert.rejects(secrets.set('api', 'EMPTY', Buffer.alloc(0)), { code: 'bad_request' });
  await assert.rejects(secrets.unset('api', 'NOPE'), { code: 'secret_not_found' });
  const other = new FunctionSecrets({
    store: secretStore,
    box: new SecretBox(randomBytes(32)),
    now: () => 6,
  });
  await assert.rejects(other.environment('api'), { code: 'secrets_unavailable' });
  await secrets.unset('api', 'TOKEN');
  assert.deepEqual(await secrets.environment('api'), {});
  await store.close();
});

test('secret values are masked in log lines, longest first, short ones left alone', () => {
  const mask = secretMasker([
    'hunter2hunter2',
    'hunter2',
    'on',
    '-----BEGIN-----\nAAAABBBBCCCC\n-----END-----',
  ]);
  assert.equal(mask('password=hunter2hunter2 and hunter2'), 'password=*** and ***');
  assert.equal(mask('turn it on'), 'turn it on');
  assert.equal(mask('key line AAAABBBBCCCC'), 'key line ***');
  assert.equal(secretMasker([])('unchanged'), 'unchanged');
});
