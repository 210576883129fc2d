/** The QueueStore contract: enqueue, claim with leases, finish, release, recover, redrive, callbacks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvocationRecord } from '../../core/index.ts';
import type { QueueStore } from '../queue.ts';
import { queued, result, withStores, type OpenStores } from './support.ts';

const claimAll = (queue: QueueStore, now: number, perFunction = 10, serials: string[] = []) =>
  queue.claim({
    now,
    limit: 10,
    excludeFunctions: [],
    excludeSerialKeys: serials,
    perFunction: () => perFunction,
    leaseUntil: () => now + 1000,
  });

/** Every QueueStore passes these (with the InvocationStore of the same backend reading its records). */
export function describeQueueStoreContract(open: OpenStores): void {
  describe('QueueStore contract', () => {
    test('claims oldest first within the per-function bound and one run per serial key', () =>
      withStores(open, async ({ queue }) => {
        await queue.enqueue(queued('a1', 'a'));
        await queue.enqueue(queued('a2', 'a'));
        await queue.enqueue(queued('a3', 'a'));
        await queue.enqueueMany([
          queued('b1', 'b', { serialKey: 'k' }),
          queued('b2', 'b', { serialKey: 'k' }),
        ]);
        await queue.enqueue(queued('later', 'c', { runAt: 5000 }));
        const runs = await claimAll(queue, 1500, 2);
        assert.deepEqual(
          runs.map((r) => r.id),
          ['a1', 'a2', 'b1'],
        );
        assert.deepEqual(
          runs.map((r) => r.attempt),
          [1, 1, 1],
        );
        assert.equal(runs[0]?.body.toString(), 'body of a1');
        assert.deepEqual(
          (await claimAll(queue, 1500, 10, ['k'])).map((r) => r.id),
          ['a3'],
          'b2 waits for its serial key',
        );
        assert.deepEqual(await queue.queueDepth(), [
          { function: 'a', queued: 0, running: 3 },
          { function: 'b', queued: 1, running: 1 },
          { function: 'c', queued: 1, running: 0 },
        ]);
        assert.equal(await queue.oldestReady(1500), 1000, 'b2 is ready, though held back by its key');
        assert.equal(await queue.oldestReady(Number.MAX_SAFE_INTEGER), 1000);
      }));

    test('a claim skips excluded functions and serial keys, honours its limit, and claims nothing twice', () =>
      withStores(open, async ({ queue }) => {
        for (let i = 0; i < 6; i++)
          await queue.enqueue(queued(`x${i}`, i % 2 ? 'odd' : 'even', { runAt: 1000 + i }));
        await queue.enqueue(queued('s', 'keyed', { serialKey: 'busy' }));
        const options = (limit: number) => ({
          now: 2000,
          limit,
          excludeFunctions: ['odd'],
          excludeSerialKeys: ['busy'],
          perFunction: () => 10,
          leaseUntil: () => 3000,
        });
        assert.deepEqual(await queue.claim(options(0)), []);
        const [one, two] = await Promise.all([queue.claim(options(1)), queue.claim(options(5))]);
        const ids = [...(one ?? []), ...(two ?? [])].map((r) => r.id).sort();
        assert.deepEqual(ids, ['x0', 'x2', 'x4'], 'concurrent claims share the runs out');
        assert.deepEqual(await queue.claim(options(5)), []);
      }));

    test('a retry counts the attempt, recovery requeues running runs as interrupted, release gives the attempt back', () =>
      withStores(open, async ({ queue, invocations }) => {
        await queue.enqueue(queued('x', 'f'));
        const [first] = await claimAll(queue, 1000);
        assert.ok(first);
        assert.equal(await queue.finishRun(first, result(503), { status: 'queued', runAt: 3000 }), true);
        assert.deepEqual(await claimAll(queue, 2500), [], 'not before its backoff');
        const [second] = await claimAll(queue, 3000);
        assert.equal(second?.attempt, 2);
        assert.equal(await queue.recoverRunning(3500, true), 0, 'its lease runs until 4000');
        assert.equal(await queue.recoverRunning(4001, true), 1);
        assert.deepEqual(
          (await invocations.attempts('x')).map((a) => [a.attempt, a.statusCode, a.outcome]),
          [
            [1, 503, 'error'],
            [2, null, 'interrupted'],
          ],
        );
        const [third] = await claimAll(queue, 4001);
        assert.equal(third?.attempt, 3);
        assert.equal((await invocations.get('x'))?.maxAttempts, 3, 'an interrupted run still gets its retry');
        await queue.release('x', 3, 4100);
        assert.equal((await invocations.get('x'))?.attempt, 2);
        assert.equal((await invocations.attempts('x')).length, 2, 'the released attempt is forgotten');
        const [again] = await claimAll(queue, 4200);
        assert.ok(again);
        assert.equal(again.attempt, 3);
        await queue.finishRun(again, result(), { status: 'succeeded' });
        const done = (await invocations.get('x')) as InvocationRecord;
        assert.equal(done.status, 'succeeded');
        assert.equal(done.responseBody?.toString(), 'out');
        assert.deepEqual(await queue.queueDepth(), []);
      }));

    test('at start every running run is recovered, whatever its lease', () =>
      withStores(open, async ({ queue }) => {
        await queue.enqueueMany([queued('a', 'f'), queued('b', 'f')]);
        await claimAll(queue, 1000);
        assert.equal(await queue.recoverRunning(1001, false), 2);
        assert.deepEqual(await queue.queueDepth(), [{ function: 'f', queued: 2, running: 0 }]);
      }));

    test('runs of several invocations are finished in one call', () =>
      withStores(open, async ({ queue, invocations }) => {
        await queue.enqueueMany([queued('a', 'f'), queued('b', 'f')]);
        const runs = await claimAll(queue, 1000);
        await queue.finishRuns(runs.map((run) => ({ run, result: result(500), next: { status: 'failed' } })));
        assert.deepEqual(
          (await invocations.list({ limit: 10 })).map((r) => r.status),
          ['failed', 'failed'],
        );
      }));

    test('a claim records its node on the invocation and the attempt; leases are renewed only while the run holds its attempt', () =>
      withStores(open, async ({ queue, invocations }) => {
        await queue.enqueue(queued('n1', 'f'));
        await queue.enqueue(queued('n2', 'f'));
        const runs = await queue.claim({
          now: 1000,
          limit: 10,
          excludeFunctions: [],
          excludeSerialKeys: [],
          perFunction: () => 10,
          leaseUntil: () => 2000,
          node: 'node-b',
        });
        assert.equal(runs.length, 2);
        assert.equal((await invocations.get('n1'))?.node, 'node-b');
        assert.equal((await invocations.attempts('n1'))[0]?.node, 'node-b');
        assert.deepEqual(
          await queue.renewLeases(
            [
              { id: 'n1', attempt: 1 },
              { id: 'n2', attempt: 2 },
              { id: 'gone', attempt: 1 },
            ],
            5000,
          ),
          ['n2', 'gone'],
          'n2 is at attempt 1, not 2; gone does not exist',
        );
        assert.equal(await queue.recoverRunning(3000, true), 1, 'n2 expired at 2000; n1 was renewed to 5000');
        assert.equal((await invocations.get('n2'))?.status, 'queued');
        assert.deepEqual(await queue.renewLeases([{ id: 'n2', attempt: 1 }], 9000), ['n2'], 'taken back');
        const [again] = await claimAll(queue, 3000);
        assert.equal(again?.attempt, 2);
        assert.equal((await invocations.attempts('n2'))[1]?.node ?? null, null);
      }));

    test('claimed callbacks are handed out once until their claim ends', () =>
      withStores(open, async ({ queue }) => {
        for (const id of ['c1', 'c2'])
          await queue.enqueue(queued(id, 'f', { callbackUrl: 'http://127.0.0.1/h', maxAttempts: 1 }));
        for (const run of await claimAll(queue, 1000))
          await queue.finishRun(run, result(200), { status: 'succeeded' });
        const first = await queue.dueCallbacks(5000, 1, [], 20_000);
        assert.equal(first.length, 1);
        const second = await queue.dueCallbacks(5000, 10, [], 20_000);
        assert.deepEqual(
          second.map((j) => j.id),
          ['c1', 'c2'].filter((id) => id !== first[0]?.id),
          'the first one is claimed',
        );
        assert.deepEqual(await queue.dueCallbacks(19_000, 10, [], 40_000), []);
        assert.equal(
          (await queue.dueCallbacks(20_000, 10, [], 40_000)).length,
          2,
          'due again once the claim ends',
        );
      }));

    test('a terminal run with a callback becomes a pending delivery; redrive requeues failed and dead ones only', () =>
      withStores(open, async ({ queue, invocations }) => {
        await queue.enqueue(
          queued('cb', 'f', { callbackUrl: 'http://127.0.0.1/h', taskToken: 't', maxAttempts: 1 }),
        );
        const [run] = await claimAll(queue, 1000);
        assert.ok(run?.hasCallback);
        assert.deepEqual(await queue.dueCallbacks(5000, 10), [], 'not before the run ends');
        await queue.finishRun(run, result(500), { status: 'dead' });
        assert.deepEqual(await queue.dueCallbacks(5000, 10), [
          { id: 'cb', url: 'http://127.0.0.1/h', taskToken: 't', attempts: 0 },
        ]);
        assert.deepEqual(
          await queue.dueCallbacks(5000, 10, ['127.0.0.1:80']),
          [],
          'its destination is skipped',
        );
        await queue.updateCallback('cb', 'pending', 1, 9000, 'status 500');
        assert.deepEqual(await queue.dueCallbacks(5000, 10), [], 'not before its next attempt');
        assert.equal((await queue.dueCallbacks(9000, 10))[0]?.attempts, 1);
        const delivery = {
          attempt: 2,
          startedAt: 9000,
          durationMs: 3,
          outcome: 'delivered',
          statusCode: 200,
          error: null,
        } as const;
        await queue.recordDelivery('cb', delivery);
        await queue.recordDelivery('gone', delivery);
        assert.deepEqual(await invocations.deliveries('cb'), [delivery]);
        assert.deepEqual(await invocations.deliveries('gone'), []);
        await queue.updateCallback('cb', 'delivered', 2, null, null);
        assert.deepEqual(await queue.dueCallbacks(10_000, 10), []);
        assert.deepEqual((await invocations.get('cb'))?.callback, {
          url: 'http://127.0.0.1/h',
          taskToken: 't',
          state: 'delivered',
          attempts: 2,
          nextAt: null,
          lastError: null,
        });
        const redriven = await queue.redrive('cb', 6000, 3);
        assert.equal(redriven?.status, 'queued');
        assert.equal(redriven?.maxAttempts, 4);
        assert.equal(await queue.redrive('cb', 6000, 3), undefined, 'a queued invocation is not redriven');
        assert.equal(await queue.redrive('nothing', 6000, 3), undefined);
      }));

    test('a succeeded invocation keeps its request body up to the history limit; a dead one keeps it whole for redrive', () =>
      withStores(open, async ({ queue, invocations }) => {
        await queue.enqueue(queued('win', 'f'));
        await queue.enqueue(queued('lose', 'f', { maxAttempts: 1 }));
        await queue.enqueue(queued('quiet', 'f', { bodiesKept: false }));
        for (const run of await claimAll(queue, 1000))
          await queue.finishRun(run, result(run.id === 'lose' ? 500 : 200), {
            status: run.id === 'lose' ? 'dead' : 'succeeded',
          });
        const win = await invocations.get('win');
        assert.equal(win?.requestBody?.toString(), 'body');
        assert.equal(win.requestTruncated, true);
        assert.equal((await invocations.get('lose'))?.requestBody?.toString(), 'body of lose');
        assert.equal((await invocations.get('lose'))?.requestTruncated, false);
        assert.equal((await invocations.get('quiet'))?.requestBody, null, 'bodies not kept');
      }));

    test('invocations with one tick key are stored once, however many enqueue it at once', () =>
      withStores(open, async ({ queue, invocations }) => {
        const tick = (id: string, tickKey: string | null) =>
          queued(id, 'f', { trigger: 'cron', scheduleId: 's', tickKey });
        // Concurrent callers: on PostgreSQL each is its own statement on its own connection.
        const stored = await Promise.all(
          ['a', 'b', 'c', 'd'].map((id) => queue.enqueue(tick(id, 's@60000'))),
        );
        assert.equal(stored.filter(Boolean).length, 1, 'one insert wins');
        const winner = ['a', 'b', 'c', 'd'][stored.indexOf(true)] ?? '';
        for (const id of ['a', 'b', 'c', 'd'])
          assert.equal(
            (await invocations.get(id)) !== undefined,
            id === winner,
            `${id} stored only if it won`,
          );
        assert.equal(await queue.activeForSchedule('s'), 1);
        assert.deepEqual(
          await queue.enqueueMany([tick('e', 's@60000'), tick('f1', 's@120000'), tick('f2', 's@120000')]),
          [false, true, false],
          'in one batch: a key taken before, and a key taken earlier in the batch, are both refused',
        );
        assert.deepEqual(
          await queue.enqueueMany([tick('n1', null), tick('n2', null), queued('x', 'f')]),
          [true, true, true],
          'no key: never refused',
        );
        assert.equal(await queue.activeForSchedule('s'), 4);
      }));

    test('the runs of a schedule in the queue are counted', () =>
      withStores(open, async ({ queue }) => {
        await queue.enqueue(queued('t1', 'f', { trigger: 'cron', scheduleId: 's' }));
        await queue.enqueue(queued('t2', 'f', { trigger: 'cron', scheduleId: 's' }));
        assert.equal(await queue.activeForSchedule('s'), 2);
        const [run] = await claimAll(queue, 1000, 1);
        assert.equal(await queue.activeForSchedule('s'), 2, 'running counts too');
        assert.ok(run);
        await queue.finishRun(run, result(), { status: 'succeeded' });
        assert.equal(await queue.activeForSchedule('s'), 1);
        assert.equal(await queue.activeForSchedule('other'), 0);
      }));
  });
}
