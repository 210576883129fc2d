import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest, toFunctionSpec, type KumoError } from '../core/index.ts';
import type { ExitInfo, Instance } from '../drivers/index.ts';
import { InstancePool } from './instance-pool.ts';
import type { PoolTarget } from './version-pool.ts';

/** An instance that is only bookkeeping: the pool's logic is what these tests exercise. */
class FakeInstance implements Instance {
  readonly socketPath = '/nonexistent';
  readonly exited: Promise<ExitInfo>;
  stopped = false;
  private finish!: (info: ExitInfo) => void;
  readonly id: string;
  constructor(id: string) {
    this.id = id;
    this.exited = new Promise((resolve) => (this.finish = resolve));
  }
  kill(): void {
    this.crash({ code: null, signal: 'SIGKILL', reason: 'killed' });
  }
  async stop(): Promise<ExitInfo> {
    this.stopped = true;
    this.crash({ code: 0, signal: null, reason: 'killed' });
    return this.exited;
  }
  crash(info: ExitInfo = { code: 1, signal: null, reason: 'exited' }): void {
    this.finish(info);
  }
  async violation(): Promise<undefined> {
    return undefined;
  }
  async assign(): Promise<void> {}
  /** Event-loop time so far: tests set it to make the instance look saturated. */
  busyMs = 0;
  async cpuUsage(): Promise<{ busyMs: number; throttledPeriods: number }> {
    return { busyMs: this.busyMs, throttledPeriods: 0 };
  }
}

function target(manifest: Record<string, unknown>, version = 1): PoolTarget {
  return {
    functionName: 'f',
    version,
    spec: toFunctionSpec(parseManifest({ name: 'f', ...manifest }), undefined),
    buildDir: '/x',
  };
}

/** `spare`: the host's idle CPU the pool is told, in cores' worth (a whole free core by default). */
function harness(spare: { cores: number | undefined } = { cores: 1 }) {
  const started: FakeInstance[] = [];
  const pool = new InstancePool({
    factory: async (_t, id) => {
      const inst = new FakeInstance(id);
      started.push(inst);
      return inst;
    },
    spareCores: async () => spare.cores,
  });
  return { pool, started };
}

test('reuses a warm instance instead of starting another', async () => {
  const { pool, started } = harness();
  const t = target({});
  const a = await pool.acquire(t);
  assert.equal(a.cold, true);
  a.release();
  const b = await pool.acquire(t);
  assert.equal(b.cold, false);
  assert.equal(b.instance, a.instance);
  b.release();
  assert.equal(started.length, 1);
  await pool.close();
});

test('honours concurrency per instance and max instances, then queues', async () => {
  const { pool, started } = harness();
  const t = target({ concurrency: 2, instances: { max: 2 } });
  const leases = await Promise.all([1, 2, 3, 4].map(() => pool.acquire(t)));
  assert.equal(started.length, 2);
  const fifth = pool.acquire(t);
  let got = false;
  void fifth.then(() => (got = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(got, false, 'fifth request waits while all slots are busy');
  assert.equal(pool.stats('f').waiting, 1);
  leases[0]?.release();
  const lease5 = await fifth;
  assert.equal(lease5.instance, leases[0]?.instance);
  for (const l of [...leases.slice(1), lease5]) l?.release();
  await pool.close();
});

test('rejects with over_capacity once the queue is full', async () => {
  const { pool } = harness();
  const t = target({ concurrency: 1, instances: { max: 1 }, queue: 1 });
  const first = await pool.acquire(t);
  const queued = pool.acquire(t);
  await assert.rejects(
    pool.acquire(t),
    (err: KumoError) => err.code === 'over_capacity' && err.status === 429,
  );
  first.release();
  (await queued).release();
  await pool.close();
});

test('a discarded lease kills its instance and the next request gets a fresh one', async () => {
  const { pool, started } = harness();
  const t = target({});
  const a = await pool.acquire(t);
  a.discard();
  await a.instance.exited;
  const b = await pool.acquire(t);
  assert.notEqual(b.instance, a.instance);
  assert.equal(started.length, 2);
  b.release();
  await pool.close();
});

test('keeps min instances warm and replaces a crashed one', async () => {
  const { pool, started } = harness();
  const t = target({ instances: { min: 2, max: 3 } });
  pool.activate(t);
  await new Promise((r) => setImmediate(r));
  assert.equal(started.length, 2);
  started[0]?.crash();
  await started[0]?.exited;
  await new Promise((r) => setImmediate(r));
  assert.equal(started.length, 3, 'a replacement was started');
  assert.equal(pool.stats('f').total, 2);
  await pool.close();
});

test('scales to zero after the idle time', async () => {
  const { pool, started } = harness();
  const t = target({ instances: { idle: '1s' } });
  const a = await pool.acquire(t);
  a.release();
  const t0 = Date.now();
  await started[0]?.exited;
  assert.ok(Date.now() - t0 >= 900, 'stopped only after the idle time');
  assert.equal(started[0]?.stopped, true);
  assert.equal(pool.stats('f').total, 0);
  await pool.close();
});

test('activating a new version drains the old one without failing its in-flight request', async () => {
  const { pool } = harness();
  const v1 = target({}, 1);
  const v2 = target({}, 2);
  const inflight = await pool.acquire(v1);
  pool.activate(v2);
  const fresh = await pool.acquire(v2);
  assert.notEqual(fresh.instance, inflight.instance);
  let v1Stopped = false;
  void inflight.instance.exited.then(() => (v1Stopped = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(v1Stopped, false, 'old instance keeps serving its request');
  inflight.release();
  await inflight.instance.exited;
  fresh.release();
  await pool.close();
});

test('a start failure rejects the waiting request instead of hanging', async () => {
  const pool = new InstancePool({
    factory: async () => {
      throw new Error('boom');
    },
  });
  await assert.rejects(pool.acquire(target({})), /boom/);
  await pool.close();
});

test('an aborted wait leaves the queue', async () => {
  const { pool } = harness();
  const t = target({ concurrency: 1, instances: { max: 1 } });
  const first = await pool.acquire(t);
  const controller = new AbortController();
  const waiting = pool.acquire(t, controller.signal);
  controller.abort(new Error('deadline'));
  await assert.rejects(waiting, /deadline/);
  assert.equal(pool.stats('f').waiting, 0);
  first.release();
  await pool.close();
});

test('an adopted instance that serves nothing still scales to zero', async () => {
  const { pool } = harness();
  const t = target({ instances: { idle: '1s' } });
  const adopted = new FakeInstance('adopted');
  pool.activate(t, adopted);
  assert.equal(pool.stats('f').total, 1);
  await adopted.exited;
  assert.equal(adopted.stopped, true);
  assert.equal(pool.stats('f').total, 0);
  await pool.close();
});

test('a node function serves many requests on one instance by default', async () => {
  const { pool, started } = harness();
  const t = target({});
  const leases = await Promise.all(Array.from({ length: 50 }, () => pool.acquire(t)));
  assert.equal(started.length, 1);
  for (const l of leases) l.release();
  await pool.close();
});

test('a retired lease lets the other requests finish, then kills its instance', async () => {
  const { pool, started } = harness();
  const t = target({ concurrency: 4 });
  const [timedOut, sibling] = await Promise.all([pool.acquire(t), pool.acquire(t)]);
  assert.equal(started.length, 1);
  timedOut?.retire();
  await new Promise((r) => setImmediate(r));
  assert.equal(started[0]?.stopped, false);
  const next = await pool.acquire(t);
  assert.notEqual(next.instance, sibling?.instance, 'a retired instance gets no new request');
  let gone = false;
  void sibling?.instance.exited.then(() => (gone = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(gone, false, 'the sibling request still holds its instance');
  sibling?.release();
  assert.equal((await sibling?.instance.exited)?.reason, 'killed');
  next.release();
  await pool.close();
});

test('adds an instance when the busy one is saturated, not merely busy', async () => {
  const { pool, started } = harness();
  const t = target({ instances: { max: 3 } });
  const busy = await Promise.all(Array.from({ length: 10 }, () => pool.acquire(t)));
  // Busy but idle on CPU: two sampling rounds and still one instance.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(started.length, 1);
  // Now it uses a whole core (its CPU time grows as fast as the wall clock).
  const stopBurning = burn(started);
  try {
    await until(() => started.length === 2);
  } finally {
    stopBurning();
  }
  const next = await pool.acquire(t);
  assert.equal(next.instance, started[1], 'the new request goes to the unsaturated instance');
  for (const l of [...busy, next]) l.release();
  await pool.close();
});

test('a saturated instance gets no sibling while the host has no CPU to spare, and one once it has', async () => {
  const spare: { cores: number | undefined } = { cores: 0.2 };
  const { pool, started } = harness(spare);
  const t = target({ instances: { max: 3 } });
  const busy = await Promise.all(Array.from({ length: 10 }, () => pool.acquire(t)));
  const stopBurning = burn(started);
  try {
    // Saturated for four sampling rounds, but the host's CPUs are busy: another would only split them.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(started.length, 1);
    spare.cores = 1.5;
    await until(() => started.length === 2);
  } finally {
    stopBurning();
  }
  for (const l of busy) l.release();
  await pool.close();
});

test('drains a spare instance once the pool is calm, without failing its requests', async () => {
  const started: FakeInstance[] = [];
  const drained: string[] = [];
  const pool = new InstancePool({
    factory: async (_t, id) => {
      const inst = new FakeInstance(id);
      started.push(inst);
      return inst;
    },
    onEvent: (e) => {
      if (e.type === 'idle_stop') drained.push(e.instanceId);
    },
    spareCores: async () => 1,
  });
  const t = target({ instances: { max: 3, idle: '1s' } });
  const first = await pool.acquire(t);
  const stopBurning = burn(started);
  await until(() => started.length === 2);
  stopBurning();
  const second = await pool.acquire(t);
  assert.equal(second.instance, started[1]);
  // Calm now: after the scale-in delay one of the two is drained, while both hold a request.
  await until(() => drained.length === 1);
  assert.ok(
    started.every((s) => !s.stopped),
    'a drained instance finishes its request first',
  );
  first.release();
  second.release();
  await until(() => started.some((s) => s.stopped));
  assert.equal(started.filter((s) => s.stopped).length, 1);
  assert.equal(started.find((s) => s.stopped)?.id, drained[0]);
  await pool.close();
});

/** Makes the first instance use a whole core (its CPU time grows with the wall clock) until stopped. */
function burn(started: FakeInstance[]): () => void {
  const begin = Date.now();
  const timer = setInterval(() => {
    const first = started[0];
    if (first) first.busyMs = Date.now() - begin;
  }, 20);
  return () => clearInterval(timer);
}

/** Waits for `check` to hold (polling a fake's bookkeeping), failing after 5 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
