import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { WriteBatch } from './write-batch.ts';

test('a batch is written when full, after flushMs, or on flush, and never empty', async () => {
  const writes: number[][] = [];
  const batch = new WriteBatch<number>((items) => void writes.push(items), 30, 3);
  batch.add(1);
  batch.add(2);
  assert.deepEqual(writes, []);
  batch.add(3); // full
  assert.deepEqual(writes, [[1, 2, 3]]);
  batch.add(4);
  await sleep(80); // the timer
  assert.deepEqual(writes, [[1, 2, 3], [4]]);
  batch.add(5);
  batch.flush();
  batch.flush();
  assert.deepEqual(writes, [[1, 2, 3], [4], [5]]);
  await sleep(80); // the flushed batch's timer was cleared: nothing more is written
  assert.deepEqual(writes, [[1, 2, 3], [4], [5]]);
});
