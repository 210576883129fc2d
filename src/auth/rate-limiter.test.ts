import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter, retryAfterSeconds } from './rate-limiter.ts';

test('a bucket allows its burst, then refills at its rate and says when the next token comes', () => {
  let now = 0;
  const limiter = new RateLimiter(() => now);
  const rate = { rps: 2, burst: 3 };
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('k', rate), { ok: true });
  assert.deepEqual(limiter.take('k', rate), { ok: false, retryAfterMs: 500 });
  assert.deepEqual(limiter.take('other', rate), { ok: true }, 'buckets are per name');
  now += 500;
  assert.deepEqual(limiter.take('k', rate), { ok: true });
  assert.equal(limiter.take('k', rate).ok, false);
  now += 10_000;
  for (let i = 0; i < 3; i++)
    assert.equal(limiter.take('k', rate).ok, true, 'refilled to the burst, not beyond');
  assert.equal(limiter.take('k', rate).ok, false);
  assert.equal(limiter.take('k', { rps: 2, burst: 5 }).ok, true, 'a changed rate starts a full bucket');
});

test('Retry-After is whole seconds, at least 1', () => {
  assert.equal(retryAfterSeconds(1), 1);
  assert.equal(retryAfterSeconds(1000), 1);
  assert.equal(retryAfterSeconds(1001), 2);
});
