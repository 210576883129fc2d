import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.ts';

test('doubles from the base, never earlier than the plain value, at most 20% later, capped', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 60_000, () => 0)),
    [1000, 2000, 4000, 8000],
  );
  assert.equal(
    backoffDelay(2, 1000, 60_000, () => 0.999),
    2400,
  );
  assert.equal(
    backoffDelay(20, 1000, 60_000, () => 0),
    60_000,
  );
});
