import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleRecord, ServerLog } from '../core/index.ts';
import { AsyncQueue } from '../queue/index.ts';
import { openSqliteStores, type ScheduleStore, type Stores } from '../store/index.ts';
import { Scheduler, type SchedulerOptions } from './scheduler.ts';

const MINUTE = 60_000;
/** The schedule's creation; its due times are the minutes after it. */
const CREATED = Date.UTC(2026, 0, 1, 0, 0, 30);
/** "Now" in these tests: three due times have passed (00:01, 00:02, 00:03). */
const NOW = CREATED + 3 * MINUTE;
const DUE = [1, 2, 3].map((m) => Date.UTC(2026, 0, 1, 0, m));

const schedule: ScheduleRecord = {
  id: 'f-s1',
  function: 'f',
  source: 'api',
  cron: '* * * * *',
  tz: null,
  data: null,
  overlap: 'allow',
  catchup: 'none',
  createdAt: CREATED,
  lastTickAt: null,
};

/** A log that keeps its warnings and errors. */
function recordingLog(): ServerLog & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (m, fields) => errors.push(`${m} ${JSON.stringify(fields)}`),
  };
}

/** A node's queue on the shared stores (not started: the test reads what it stored). */
function queueOn(stores: Stores): AsyncQueue {
  return new AsyncQueue({
    store: stores.queue,
    runner: {
      runQueued: () => Promise.reject(new Error('no run in this test')),
    },
    settings: () => undefined,
    log: recordingLog(),
    workers: 1,
    backoffMs: 1000,
  });
}

/** A scheduler of one node that leads after another: it runs the due times of the last 5 minutes again. */
function leader(stores: Stores, over: Partial<SchedulerOptions> = {}): Scheduler {
  const queue = queueOn(stores);
  return new Scheduler({
    store: stores.schedules,
    queue: stores.queue,
    enqueueTick: (input, key) => queue.enqueueTick(input, key),
    manifestSchedules: () => [],
    log: recordingLog(),
    now: () => NOW,
    takeoverWindowMs: 5 * MINUTE,
    ...over,
  });
}

/** A start after another leader (it waited for the lease, or led before). */
const TAKEOVER = { takeover: true };

/** The due times of the cron invocations stored, sorted (a due time twice shows twice). */
async function queuedDueTimes(stores: Stores): Promise<number[]> {
  const rows = await stores.invocations.list({ function: 'f', trigger: 'cron', limit: 100 });
  return rows.map((r) => Date.parse(String(r.request.headers['x-kumo-scheduled-at']))).sort((a, b) => a - b);
}

/** `store` with its markTick replaced. */
function withMarkTick(store: ScheduleStore, markTick: ScheduleStore['markTick']): ScheduleStore {
  return new Proxy(store, {
    get: (target, name, receiver) => (name === 'markTick' ? markTick : Reflect.get(target, name, receiver)),
  });
}

test('two nodes that both lead for a moment and run the same due times queue each due time once', async () => {
  const stores = openSqliteStores(':memory:');
  try {
    await stores.schedules.putSchedule(schedule);
    const enqueued: string[] = [];
    const onTick = (fn: string, result: string) => enqueued.push(`${fn} ${result}`);
    const a = leader(stores, { onTick });
    const b = leader(stores, { onTick });
    await Promise.all([a.start([], TAKEOVER), b.start([], TAKEOVER)]);
    a.stop();
    b.stop();
    assert.deepEqual(await queuedDueTimes(stores), DUE);
    assert.equal(enqueued.length, DUE.length, 'a refused duplicate is not counted as enqueued');
    assert.equal((await stores.schedules.getSchedule(schedule.id))?.lastTickAt, DUE[2]);
  } finally {
    await stores.close();
  }
});

test('a leader that dies between queuing a tick and recording it loses nothing: the next leader queues only what is missing', async () => {
  const stores = openSqliteStores(':memory:');
  try {
    await stores.schedules.putSchedule(schedule);
    const queue = queueOn(stores);
    let inserts = 0;
    // The first leader stores the tick due at 00:01, then dies: its record of the tick never
    // happens, and the ticks after it are never stored.
    const dying = leader(stores, {
      store: withMarkTick(stores.schedules, () => Promise.reject(new Error('the node died'))),
      enqueueTick: (input, key) =>
        ++inserts === 1 ? queue.enqueueTick(input, key) : Promise.reject(new Error('the node died')),
    });
    await dying.start([], TAKEOVER);
    dying.stop();
    assert.deepEqual(await queuedDueTimes(stores), [DUE[0]]);
    assert.equal((await stores.schedules.getSchedule(schedule.id))?.lastTickAt, null);

    const next = leader(stores);
    await next.start([], TAKEOVER);
    next.stop();
    assert.deepEqual(await queuedDueTimes(stores), DUE, 'each due time once: 00:01 refused by its key');
    assert.equal((await stores.schedules.getSchedule(schedule.id))?.lastTickAt, DUE[2]);
  } finally {
    await stores.close();
  }
});

test('a start that takes over from no leader follows the catch-up policy, where a takeover runs each due time', async () => {
  for (const [catchup, takeover, expected] of [
    ['one', false, [NOW]],
    ['none', false, []],
    ['none', true, DUE],
  ] as const) {
    const stores = openSqliteStores(':memory:');
    try {
      await stores.schedules.putSchedule({ ...schedule, catchup });
      const s = leader(stores);
      await s.start([], { takeover });
      s.stop();
      const label = `catchup: ${catchup}, takeover: ${takeover}`;
      assert.deepEqual(await queuedDueTimes(stores), expected, label);
      assert.equal(
        (await stores.schedules.getSchedule(schedule.id))?.lastTickAt,
        takeover ? DUE[2] : NOW,
        label,
      );
    } finally {
      await stores.close();
    }
  }
});

test('a tick whose insert fails is logged, not counted as enqueued, and not recorded as run', async () => {
  const stores = openSqliteStores(':memory:');
  try {
    // A lone node's restart with catchup: one runs the missed tick now.
    await stores.schedules.putSchedule({ ...schedule, catchup: 'one' });
    const log = recordingLog();
    const ticks: string[] = [];
    const s = leader(stores, {
      log,
      takeoverWindowMs: 0,
      enqueueTick: () => Promise.reject(new Error('store_unavailable')),
      onTick: (_fn, result) => ticks.push(result),
    });
    await s.start([]);
    s.stop();
    assert.deepEqual(ticks, []);
    assert.match(log.errors.join('\n'), /schedule tick failed.*could not be queued.*store_unavailable/);
    assert.equal((await stores.schedules.getSchedule(schedule.id))?.lastTickAt, null);
    assert.deepEqual(await queuedDueTimes(stores), []);
  } finally {
    await stores.close();
  }
});
