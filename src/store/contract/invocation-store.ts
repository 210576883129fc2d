/** The InvocationStore contract: the history's records, listings, stats and retention. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { finished, queued, withStores, type OpenStores } from './support.ts';

/** Every InvocationStore passes these (with the QueueStore of the same backend adding queued entries). */
export function describeInvocationStoreContract(open: OpenStores): void {
  describe('InvocationStore contract', () => {
    test('a finished invocation is read back whole; listings leave the bodies out, newest first, filtered', () =>
      withStores(open, async ({ invocations, queue }) => {
        const record = finished('s1', 'f', 1000, {
          requestBody: Buffer.from('in'),
          responseBody: Buffer.from('out'),
          responseHeaders: { 'content-type': 'text/plain' },
          error: { code: 'x', message: 'y' },
          status: 'failed',
          cold: true,
          node: 'node-a',
        });
        await invocations.insertFinished([record, finished('s2', 'g', 1001)]);
        await queue.enqueue(queued('q', 'f', { createdAt: 1002 }));
        assert.deepEqual(await invocations.get('s1'), record);
        assert.equal(await invocations.get('nothing'), undefined);
        const listed = await invocations.list({ limit: 10 });
        assert.deepEqual(
          listed.map((r) => r.id),
          ['q', 's2', 's1'],
        );
        assert.equal(listed[2]?.requestBody ?? null, null);
        assert.equal(listed[2]?.responseBody ?? null, null);
        assert.deepEqual(
          (await invocations.list({ function: 'f', limit: 10 })).map((r) => r.id),
          ['q', 's1'],
        );
        assert.deepEqual(
          (await invocations.list({ status: 'failed', limit: 10 })).map((r) => r.id),
          ['s1'],
        );
        assert.deepEqual(
          (await invocations.list({ trigger: 'async', limit: 10 })).map((r) => r.id),
          ['q'],
        );
        assert.deepEqual(
          (await invocations.list({ since: 1001, before: 1002, limit: 10 })).map((r) => r.id),
          ['s2'],
        );
        assert.deepEqual(
          (await invocations.list({ limit: 1 })).map((r) => r.id),
          ['q'],
        );
      }));

    test('what a caller sent comes back byte for byte: tabs, newlines, backslashes, \\N and \\. in text, every byte in bodies', () =>
      withStores(open, async ({ invocations }) => {
        const nasty = 'a\tb\nc\rd\\e\\N\\.\\x00f\\\\\n\\.\n\u00e9\u{1F600}';
        const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const record = finished('nasty', 'f', 1000, {
          request: { method: 'POST', path: `/${nasty}`, headers: { 'x-h': nasty, 'x-empty': '' } },
          requestBody: everyByte,
          responseHeaders: { 'x-back': nasty },
          responseBody: Buffer.from('\\.\n\\N\t'),
          error: { code: 'crash', message: nasty },
          status: 'failed',
          outcome: 'error',
          // Stored as plain text, not JSON: its tabs and newlines reach the row raw.
          node: nasty,
        });
        await invocations.insertFinished([
          record,
          finished('empty', 'f', 1001, { requestBody: Buffer.alloc(0) }),
        ]);
        assert.deepEqual(await invocations.get('nasty'), record);
        const empty = await invocations.get('empty');
        assert.equal(empty?.requestBody?.length ?? 0, 0);
        assert.equal((await invocations.list({ limit: 10 })).length, 2, 'no row split in two, none lost');
      }));

    test('an id written again replaces its row, also in a batch with new ones (the last write wins)', () =>
      withStores(open, async ({ invocations }) => {
        await invocations.insertFinished([finished('x', 'f', 1000, { durationMs: 1 })]);
        const again = finished('x', 'f', 1000, { durationMs: 2, status: 'failed', outcome: 'error' });
        const fresh = finished('y', 'f', 1001);
        await invocations.insertFinished([fresh, again]);
        assert.deepEqual(await invocations.get('x'), again);
        assert.deepEqual(await invocations.get('y'), fresh);
        assert.deepEqual(
          (await invocations.list({ limit: 10 })).map((r) => r.id),
          ['y', 'x'],
        );
      }));

    test('stats samples are the finished invocations since a time, of one function or all, newest first', () =>
      withStores(open, async ({ invocations, queue }) => {
        await invocations.insertFinished([
          finished('a', 'f', 1000, { durationMs: 4 }),
          finished('b', 'g', 1100, { durationMs: 5, cold: true, status: 'failed' }),
          finished('c', 'f', 900, { durationMs: 6 }),
        ]);
        await queue.enqueue(queued('q', 'f', { createdAt: 1200 }));
        assert.deepEqual(await invocations.statsSamples(1000, undefined, 10), [
          { function: 'g', createdAt: 1100, status: 'failed', durationMs: 5, cold: true },
          { function: 'f', createdAt: 1000, status: 'succeeded', durationMs: 4, cold: false },
        ]);
        assert.deepEqual(
          (await invocations.statsSamples(0, 'f', 10)).map((s) => s.createdAt),
          [1000, 900],
        );
        assert.equal((await invocations.statsSamples(0, undefined, 1)).length, 1);
      }));

    test('stats buckets group one function’s finished invocations by time, with counts, errors, cold starts and durations', () =>
      withStores(open, async ({ invocations, queue }) => {
        await invocations.insertFinished([
          finished('x1', 'f', 1000, { durationMs: 4 }),
          finished('x2', 'f', 1500, { durationMs: 2.5, status: 'failed', cold: true }),
          finished('x3', 'f', 2100, { durationMs: 7 }),
          finished('x4', 'g', 1200, { durationMs: 1 }),
          finished('x5', 'f', 500, { durationMs: 9 }),
        ]);
        await queue.enqueue(queued('q1', 'f', { createdAt: 1100 }));
        const rows = (await invocations.statsBuckets('f', 1000, 1000)).sort((a, b) => a.index - b.index);
        assert.deepEqual(
          rows.map((r) => ({ ...r, durations: [...r.durations].sort((a, b) => a - b) })),
          [
            { index: 0, count: 2, errors: 1, coldStarts: 1, durations: [2.5, 4] },
            { index: 1, count: 1, errors: 0, coldStarts: 0, durations: [7] },
          ],
        );
        assert.deepEqual(await invocations.statsBuckets('none', 0, 1000), []);
      }));

    test('retention drops finished invocations beyond the count per function and past the age, never queued ones', () =>
      withStores(open, async ({ invocations, queue }) => {
        await invocations.insertFinished(
          Array.from({ length: 10 }, (_, i) => finished(`s${i}`, 'f', 1000 + i)),
        );
        await queue.enqueue(queued('q', 'f', { createdAt: 1 }));
        assert.equal((await invocations.prune(4, 1003)).removed, 6);
        assert.deepEqual(
          (await invocations.list({ function: 'f', limit: 100 })).map((r) => r.id),
          ['s9', 's8', 's7', 's6', 'q'],
        );
        assert.equal(
          (await invocations.prune(100, 1008)).removed,
          2,
          'age: s6 and s7 are older than the cut',
        );
        assert.deepEqual(
          (await invocations.list({ limit: 100 })).map((r) => r.id),
          ['s9', 's8', 'q'],
        );
      }));

    test('retention counts the bytes it frees, drops the oldest first, and prunes only the functions it is given', () =>
      withStores(open, async ({ invocations, queue }) => {
        const row = (id: string, createdAt: number) =>
          finished(id, id.startsWith('a') ? 'a' : 'b', createdAt, {
            request: { method: 'POST', path: '/', headers: {} },
            requestBody: Buffer.alloc(60),
            responseBody: Buffer.alloc(40),
          });
        await invocations.insertFinished(['a1', 'b2', 'a3', 'b4', 'a5'].map((id, i) => row(id, 1000 + i)));
        await queue.enqueue(queued('q', 'a', { createdAt: 1 }));
        // 100 bytes of bodies and 43 of request and response headers ({"method":"POST",…} and {}) each.
        const row143 = 143;
        assert.equal(await invocations.bodyBytes(), 5 * row143, 'the queued one is not counted');
        assert.deepEqual(await invocations.pruneOldest(2), { removed: 2, bytes: 2 * row143 });
        assert.deepEqual(
          (await invocations.list({ limit: 100 })).map((r) => r.id),
          ['a5', 'b4', 'a3', 'q'],
          'the oldest finished went; the queued one stays whatever its age',
        );
        assert.deepEqual(await invocations.pruneOldest(10), { removed: 3, bytes: 3 * row143 });
        await invocations.insertFinished(['a1', 'b2', 'a3', 'b4', 'a5'].map((id, i) => row(id, 1000 + i)));
        assert.deepEqual(
          await invocations.prune(2, 0, ['a']),
          { removed: 1, bytes: row143 },
          'a1 goes, b is not looked at',
        );
        assert.deepEqual(
          (await invocations.list({ limit: 100 })).map((r) => r.id),
          ['a5', 'b4', 'a3', 'b2', 'q'],
        );
      }));

    test('the log lines of an invocation are read in order, at most the limit', () =>
      withStores(open, async ({ invocations, functions }) => {
        const line = (i: number, invocationId: string | null) => ({
          time: i,
          function: 'f',
          version: 1,
          invocationId,
          stream: 'stdout' as const,
          line: `l${i}`,
        });
        await functions.appendLogs([
          line(1, 'i'),
          line(2, 'other'),
          line(3, 'i'),
          line(4, null),
          line(5, 'i'),
        ]);
        assert.deepEqual(
          (await invocations.logs('i', 2)).map((l) => [l.line, l.invocationId]),
          [
            ['l1', 'i'],
            ['l3', 'i'],
          ],
        );
      }));
  });
}
