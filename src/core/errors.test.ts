import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ERROR_CODES, KumoError, isErrorCode, toKumoError } from './errors.ts';

test('every error code is documented in the README errors table with its status', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `README lists ${code} (${status})`);
  }
});

test('codes are snake_case and statuses are HTTP error statuses', () => {
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/);
    assert.ok(status >= 400 && status <= 599, code);
  }
});

test('a KumoError carries its status and serialises to the error body', () => {
  const err = new KumoError('function_not_found', "no function named 'x'");
  assert.equal(err.status, 404);
  assert.deepEqual(err.toBody(), { error: { code: 'function_not_found', message: "no function named 'x'" } });
  assert.ok(isErrorCode('over_capacity'));
  assert.ok(!isErrorCode('nope'));
  const hidden = toKumoError(new Error('secret internals'));
  assert.equal(hidden.code, 'internal_error');
  assert.ok(!hidden.message.includes('secret'));
});
