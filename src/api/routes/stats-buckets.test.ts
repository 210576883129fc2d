import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatsBucketRow } from '../../store/index.ts';
import { bucketize, bucketWindow } from './stats-buckets.ts';

const HOUR = 3_600_000;
const NOW = 1_764_000_000_000 + 1234;

test('a window is aligned to its step and covers now', () => {
  const w = bucketWindow('24h', '1h', NOW);
  assert.equal(w.step, HOUR);
  assert.equal(w.start % HOUR, 0);
  assert.ok(w.start <= NOW - 24 * HOUR);
  assert.ok(w.start + w.count * w.step > NOW);
  assert.equal(w.count, 25);
  assert.equal(bucketWindow(null, null, NOW).step, 30 * 60_000, 'default 24 h in 30 min steps');
  assert.equal(bucketWindow('1h', null, NOW).step, 300_000);
});

test('bad windows are refused, naming the parameter', () => {
  assert.throws(() => bucketWindow('24h', 'x', NOW), /"step"/);
  assert.throws(() => bucketWindow('24h', '10ms', NOW), /at least 1s/);
  assert.throws(() => bucketWindow('30d', '1m', NOW), /at most 1000/);
  assert.throws(() => bucketWindow('yesterday', '1h', NOW), /"since"/);
});

test("store buckets become the window's buckets with nearest-rank percentiles; empty ones are zeros", () => {
  const w = bucketWindow('3h', '1h', NOW);
  const rows: StatsBucketRow[] = [
    { index: 0, count: 3, errors: 1, coldStarts: 1, durations: [10, 30, 20] },
    { index: 2, count: 1, errors: 1, coldStarts: 0, durations: [5] },
    { index: 99, count: 1, errors: 0, coldStarts: 0, durations: [1] },
  ];
  const b = bucketize(rows, w, [1, 2, 0, 3]);
  assert.equal(b.length, w.count);
  assert.deepEqual(b[0], {
    start: w.start,
    count: 3,
    errors: 1,
    p50: 20,
    p95: 30,
    coldStarts: 1,
    instances: 1,
  });
  assert.deepEqual(b[1], {
    start: w.start + HOUR,
    count: 0,
    errors: 0,
    p50: 0,
    p95: 0,
    coldStarts: 0,
    instances: 2,
  });
  assert.equal(b[2]?.errors, 1);
  assert.equal(
    b.reduce((n, x) => n + x.count, 0),
    4,
    'a bucket outside the window is left out',
  );
});
