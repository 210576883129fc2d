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

test('with retry, a failed batch is held (bounded, oldest dropped) and written again once the store answers', async () => {
  const written: number[] = [];
  let down = true;
  const errors: { pending: number; dropped: number }[] = [];
  let recovered = 0;
  const batch = new WriteBatch<number>(
    (items) => {
      if (down) throw new Error('connect ECONNREFUSED');
      written.push(...items);
    },
    5,
    100,
    {
      maxPending: 4,
      retryMs: 20,
      onError: (_err, pending, dropped) => errors.push({ pending, dropped }),
      onRecovered: (n) => (recovered += n),
    },
  );
  for (const n of [1, 2, 3]) batch.add(n);
  await batch.flush(); // resolves, does not reject, while the store is down
  assert.deepEqual(written, []);
  for (const n of [4, 5, 6]) batch.add(n);
  await sleep(50);
  assert.ok((errors.at(-1)?.dropped ?? 0) >= 2, JSON.stringify(errors));
  down = false;
  await sleep(60);
  assert.deepEqual(written, [3, 4, 5, 6], 'the newest four, in order, once');
  assert.equal(recovered, 4);
  batch.add(7);
  await batch.flush();
  assert.deepEqual(written, [3, 4, 5, 6, 7]);
});
