import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringField } from './payload.ts';

test('a key with a NUL character is refused with plugin_error on every backend', () => {
  assert.equal(stringField({ key: 'a' }, 'key', 'kv.get'), 'a');
  assert.throws(
    () => stringField({ key: 'a\u0000b' }, 'key', 'kv.get'),
    (err: Error & { code?: string }) =>
      err.code === 'plugin_error' && /"key" must not contain the NUL character/.test(err.message),
  );
  assert.throws(() => stringField({ key: '' }, 'key', 'kv.get'), /1 to 512 characters/);
});
