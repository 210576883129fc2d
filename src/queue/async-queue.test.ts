import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerLog } from '../core/index.ts';
import { openSqliteStores, type QueueStore } from '../store/index.ts';
import { AsyncQueue, type QueueJobResult } from './async-queue.ts';

/** A log that keeps its warnings. */
function warningLog(): ServerLog & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (m, fields) => warnings.push(`${m} ${JSON.stringify(fields)}`),
    error: () => {},
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function answer(): QueueJobResult {
  const now = Date.now();
  return {
    version: 1,
    status: 200,
    headers: {},
    body: Buffer.from('ok'),
    truncated: false,
    outcome: 'ok',
    cold: false,
    startedAt: now,
    finishedAt: now,
    error: null,
  };
}

/**
 * Runs invocations on a queue whose lease renewals take 40 ms to reach the store; with `lostForAll`
 * the store answers that every run lost its lease while they are all still running.
 */
async function runWith(lostForAll: boolean): Promise<string[]> {
  const stores = await openSqliteStores(':memory:');
  const real = stores.queue;
  // The renewal's snapshot is taken, then runs finish while it travels (a slow store round trip).
  const store: QueueStore = Object.create(real) as QueueStore;
  store.renewLeases = async (runs, until) => {
    await delay(40);
    return lostForAll ? runs.map((r) => r.id) : real.renewLeases(runs, until);
  };
  const log = warningLog();
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  const queue = new AsyncQueue({
    store,
    runner: {
      runQueued: async () => {
        if (lostForAll) await held;
        else await delay(5 + Math.random() * 30);
        return answer();
      },
    },
    settings: () => ({ concurrency: 4, retries: 0, timeoutMs: 10_000, bodies: true }),
    log,
    workers: 4,
    backoffMs: 100,
    visibilityTimeoutMs: 300,
    shared: true,
  });
  try {
    await queue.start();
    for (let i = 0; i < (lostForAll ? 2 : 40); i++)
      await queue.enqueue({
        function: 'f',
        trigger: 'async',
        request: { method: 'POST', path: '/', headers: {} },
        body: Buffer.from(String(i)),
      });
    if (lostForAll) {
      // Still running here, but the store says another node holds them.
      const until = Date.now() + 2000;
      while (!log.warnings.length && Date.now() < until) await delay(20);
      release();
    } else {
      const until = Date.now() + 10_000;
      const left = async () => (await real.queueDepth()).reduce((n, d) => n + d.queued + d.running, 0);
      while ((await left()) > 0 && Date.now() < until) await delay(20);
      assert.equal(await left(), 0, 'every invocation finished');
    }
  } finally {
    release();
    await queue.stop(1000);
    await stores.close();
  }
  return log.warnings.filter((w) => w.includes('lost their lease'));
}

test('runs that finish while a lease renewal is on its way are not reported as lost', async () => {
  assert.deepEqual(await runWith(false), []);
});

test('runs still going whose lease the store no longer holds are reported as lost', async () => {
  const lost = await runWith(true);
  assert.ok(lost.length > 0, 'a warning names them');
});
