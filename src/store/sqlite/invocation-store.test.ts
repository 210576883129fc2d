import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationRecord } from '../../core/index.ts';
import type { NewQueuedInvocation, RunResult } from '../invocations.ts';
import { SqliteInvocationStore } from './invocation-store.ts';
import { openSqliteStore } from './sqlite-store.ts';

function open() {
  const base = openSqliteStore(':memory:');
  return { base, store: new SqliteInvocationStore(base.db) };
}

function queued(id: string, fn: string, extra: Partial<NewQueuedInvocation> = {}): NewQueuedInvocation {
  return {
    id,
    function: fn,
    trigger: 'async',
    maxAttempts: 3,
    createdAt: 1000,
    runAt: 1000,
    request: { method: 'POST', path: '/', headers: {} },
    body: Buffer.from(`body of ${id}`),
    scheduleId: null,
    serialKey: null,
    callbackUrl: null,
    taskToken: null,
    bodiesKept: true,
    ...extra,
  };
}

const ok = (status = 200): RunResult => ({
  version: 1,
  startedAt: 2000,
  finishedAt: 2010,
  statusCode: status,
  outcome: status >= 500 ? 'error' : 'ok',
  cold: false,
  responseHeaders: { 'content-type': 'text/plain' },
  responseBody: Buffer.from('out'),
  responseTruncated: false,
  error: null,
  keepRequestBytes: 4,
});

const claimAll = (store: SqliteInvocationStore, now: number, perFunction = 10, serials: string[] = []) =>
  store.claim({
    now,
    limit: 10,
    excludeFunctions: [],
    excludeSerialKeys: serials,
    perFunction: () => perFunction,
    leaseUntil: () => now + 1000,
  });

test('claims oldest first within the per-function bound and one run per serial key', () => {
  const { base, store } = open();
  store.enqueue(queued('a1', 'a'));
  store.enqueue(queued('a2', 'a'));
  store.enqueue(queued('a3', 'a'));
  store.enqueue(queued('b1', 'b', { serialKey: 'k' }));
  store.enqueue(queued('b2', 'b', { serialKey: 'k' }));
  store.enqueue(queued('later', 'c', { runAt: 5000 }));
  const runs = claimAll(store, 1500, 2);
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
    claimAll(store, 1500, 10, ['k']).map((r) => r.id),
    ['a3'],
    'b2 waits for its serial key',
  );
  assert.deepEqual(store.queueDepth(), [
    { function: 'a', queued: 0, running: 3 },
    { function: 'b', queued: 1, running: 1 },
    { function: 'c', queued: 1, running: 0 },
  ]);
  base.close();
});

test('a retry counts the attempt, a crash requeues running runs as interrupted, release gives the attempt back', () => {
  const { base, store } = open();
  store.enqueue(queued('x', 'f'));
  const [first] = claimAll(store, 1000);
  assert.ok(first);
  assert.equal(store.finishRun(first, ok(503), { status: 'queued', runAt: 3000 }), true);
  assert.deepEqual(claimAll(store, 2500), [], 'not before its backoff');
  const [second] = claimAll(store, 3000);
  assert.equal(second?.attempt, 2);
  assert.equal(store.recoverRunning(3500, false), 1);
  const attempts = store.attempts('x');
  assert.deepEqual(
    attempts.map((a) => [a.attempt, a.statusCode, a.outcome]),
    [
      [1, 503, 'error'],
      [2, null, 'interrupted'],
    ],
  );
  const [third] = claimAll(store, 4000);
  assert.equal(third?.attempt, 3);
  assert.equal(store.get('x')?.maxAttempts, 3, 'an interrupted run still gets its retry');
  store.release('x', 3, 4100);
  assert.equal(store.get('x')?.attempt, 2);
  const [again] = claimAll(store, 4200);
  assert.ok(again);
  store.finishRun(again, ok(), { status: 'succeeded' });
  const done = store.get('x') as InvocationRecord;
  assert.equal(done.status, 'succeeded');
  assert.equal(done.responseBody?.toString(), 'out');
  base.close();
});

test('a terminal run with a callback becomes a pending delivery; redrive requeues failed and dead ones only', () => {
  const { base, store } = open();
  store.enqueue(queued('cb', 'f', { callbackUrl: 'http://127.0.0.1/h', taskToken: 't', maxAttempts: 1 }));
  const [run] = claimAll(store, 1000);
  assert.ok(run?.hasCallback);
  store.finishRun(run, ok(500), { status: 'dead' });
  assert.deepEqual(store.dueCallbacks(5000, 10), [
    { id: 'cb', url: 'http://127.0.0.1/h', taskToken: 't', attempts: 0 },
  ]);
  store.updateCallback('cb', 'delivered', 1, null, null);
  assert.deepEqual(store.dueCallbacks(5000, 10), []);
  const redriven = store.redrive('cb', 6000, 3);
  assert.equal(redriven?.status, 'queued');
  assert.equal(redriven?.maxAttempts, 4);
  assert.equal(store.redrive('cb', 6000, 3), undefined, 'a queued invocation is not redriven');
  base.close();
});

test('retention drops finished invocations beyond the count per function and past the age, never queued ones', () => {
  const { base, store } = open();
  const finished = (id: string, createdAt: number): InvocationRecord => ({
    id,
    function: 'f',
    version: 1,
    trigger: 'http',
    status: 'succeeded',
    attempt: 1,
    maxAttempts: 1,
    statusCode: 200,
    outcome: 'ok',
    cold: false,
    createdAt,
    startedAt: createdAt,
    finishedAt: createdAt + 1,
    durationMs: 1,
    runAt: null,
    scheduleId: null,
    request: { method: 'GET', path: '/', headers: {} },
    requestBody: null,
    requestTruncated: false,
    responseHeaders: {},
    responseBody: null,
    responseTruncated: false,
    error: null,
    callback: null,
    bodiesKept: true,
  });
  store.insertFinished(Array.from({ length: 10 }, (_, i) => finished(`s${i}`, 1000 + i)));
  store.enqueue(queued('q', 'f', { createdAt: 1 }));
  assert.equal(store.prune(4, 1003).removed, 6);
  assert.deepEqual(
    store.list({ function: 'f', limit: 100 }).map((r) => r.id),
    ['s9', 's8', 's7', 's6', 'q'],
  );
  assert.equal(store.prune(100, 1008).removed, 2, 'age: s6 and s7 are older than the cut');
  assert.deepEqual(
    store.list({ limit: 100 }).map((r) => r.id),
    ['s9', 's8', 'q'],
  );
  base.close();
});

test('stats buckets group one function’s finished invocations by time, with counts, errors, cold starts and durations', () => {
  const { base, store } = open();
  const finished = (
    id: string,
    fn: string,
    createdAt: number,
    durationMs: number,
    status = 'succeeded',
    cold = false,
  ) =>
    ({
      id,
      function: fn,
      version: 1,
      trigger: 'http',
      status,
      attempt: 1,
      maxAttempts: 1,
      statusCode: status === 'succeeded' ? 200 : 500,
      outcome: status === 'succeeded' ? 'ok' : 'error',
      cold,
      createdAt,
      startedAt: createdAt,
      finishedAt: createdAt + durationMs,
      durationMs,
      runAt: null,
      scheduleId: null,
      request: { method: 'GET', path: '/', headers: {} },
      requestBody: null,
      requestTruncated: false,
      responseHeaders: {},
      responseBody: null,
      responseTruncated: false,
      error: null,
      callback: null,
      bodiesKept: true,
    }) as InvocationRecord;
  store.insertFinished([
    finished('x1', 'f', 1000, 4),
    finished('x2', 'f', 1500, 2.5, 'failed', true),
    finished('x3', 'f', 2100, 7),
    finished('x4', 'g', 1200, 1),
    finished('x5', 'f', 500, 9),
  ]);
  store.enqueue(queued('q1', 'f', { createdAt: 1100 }));
  const rows = store.statsBuckets('f', 1000, 1000).sort((a, b) => a.index - b.index);
  assert.deepEqual(
    rows.map((r) => ({ ...r, durations: [...r.durations].sort((a, b) => a - b) })),
    [
      { index: 0, count: 2, errors: 1, coldStarts: 1, durations: [2.5, 4] },
      { index: 1, count: 1, errors: 0, coldStarts: 0, durations: [7] },
    ],
  );
  base.close();
});

test('a succeeded async invocation keeps its request body up to the history limit; a dead one keeps it whole for redrive', () => {
  const { base, store } = open();
  store.enqueue(queued('win', 'f'));
  store.enqueue(queued('lose', 'f', { maxAttempts: 1 }));
  const runs = claimAll(store, 1000);
  for (const run of runs)
    store.finishRun(run, ok(run.id === 'win' ? 200 : 500), {
      status: run.id === 'win' ? 'succeeded' : 'dead',
    });
  const win = store.get('win');
  assert.equal(win?.requestBody?.toString(), 'body');
  assert.equal(win.requestTruncated, true);
  assert.equal(store.get('lose')?.requestBody?.toString(), 'body of lose');
  assert.equal(store.get('lose')?.requestTruncated, false);
  base.close();
});

test('retention counts the bytes it frees, drops the oldest first, and prunes only the functions it is given', () => {
  const { base, store } = open();
  const row = (id: string, createdAt: number): Parameters<typeof store.insertFinished>[0][number] => ({
    id,
    function: id.startsWith('a') ? 'a' : 'b',
    version: 1,
    trigger: 'http',
    status: 'succeeded',
    attempt: 1,
    maxAttempts: 1,
    statusCode: 200,
    outcome: 'ok',
    cold: false,
    createdAt,
    startedAt: createdAt,
    finishedAt: createdAt + 1,
    durationMs: 1,
    runAt: null,
    scheduleId: null,
    request: { method: 'POST', path: '/', headers: {} },
    requestBody: Buffer.alloc(60),
    requestTruncated: false,
    responseHeaders: {},
    responseBody: Buffer.alloc(40),
    responseTruncated: false,
    error: null,
    callback: null,
    bodiesKept: true,
  });
  store.insertFinished(['a1', 'b2', 'a3', 'b4', 'a5'].map((id, i) => row(id, 1000 + i)));
  store.enqueue(queued('q', 'a', { createdAt: 1 }));
  // 100 bytes of bodies and 43 of request and response headers ({"method":"POST",…} and {}) each.
  const row143 = 143;
  assert.equal(store.bodyBytes(), 5 * row143, 'the queued one is not counted');
  assert.deepEqual(store.pruneOldest(2), { removed: 2, bytes: 2 * row143 });
  assert.deepEqual(
    store.list({ limit: 100 }).map((r) => r.id),
    ['a5', 'b4', 'a3', 'q'],
    'the oldest finished went; the queued one stays whatever its age',
  );
  assert.deepEqual(store.pruneOldest(10), { removed: 3, bytes: 3 * row143 });
  store.insertFinished(['a1', 'b2', 'a3', 'b4', 'a5'].map((id, i) => row(id, 1000 + i)));
  assert.deepEqual(store.prune(2, 0, ['a']), { removed: 1, bytes: row143 }, 'a1 goes, b is not looked at');
  assert.deepEqual(
    store.list({ limit: 100 }).map((r) => r.id),
    ['a5', 'b4', 'a3', 'b2', 'q'],
  );
  base.close();
});
