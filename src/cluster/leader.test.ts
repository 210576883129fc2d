import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerLog } from '../core/index.ts';
import { openSqliteStores, type ClusterStore } from '../store/index.ts';
import { LeaderLease } from './leader.ts';

const quiet: ServerLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Resolves once `check` holds, polling every 20 ms for at most 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A 300 ms `scheduler` lease of node `owner` that notes each gain in `gains` ("LABEL starts" or "LABEL takes over"). */
function recordedLease(store: ClusterStore, owner: string, label: string, gains: string[]): LeaderLease {
  return new LeaderLease({
    store,
    name: 'scheduler',
    owner,
    ttlMs: 300,
    onGain: ({ takeover }) => void gains.push(`${label} ${takeover ? 'takes over' : 'starts'}`),
    onLose: () => {},
    log: quiet,
  });
}

test('a gain takes over when the node waited for another owner’s lease, not when it won at its first try', async () => {
  const stores = openSqliteStores(':memory:');
  const gains: string[] = [];
  const lease = (owner: string) => recordedLease(stores.cluster, owner, owner, gains);
  const a = lease('a');
  const b = lease('b');
  try {
    await a.start();
    await b.start();
    assert.deepEqual(gains, ['a starts'], 'b is refused while a leads');
    await a.stop();
    await until(() => gains.length === 2, 'b to lead');
    assert.deepEqual(gains, ['a starts', 'b takes over'], 'b waited while a led');
    await b.stop();
    // As a lone node's restart: the lease was given up, and the new process wins at its first try.
    const again = lease('a2');
    await again.start();
    await again.stop();
    assert.deepEqual(gains.at(-1), 'a2 starts');
  } finally {
    await a.stop();
    await b.stop();
    await stores.close();
  }
});

test('a leader that could not renew its lease and wins it back takes over (its own ticks may be left)', async () => {
  const stores = openSqliteStores(':memory:');
  let storeDown = false;
  const store = new Proxy(stores.cluster, {
    get: (target, name, receiver) =>
      name === 'tryLease' && storeDown
        ? () => Promise.reject(new Error('store_unavailable'))
        : (Reflect.get(target, name, receiver) as unknown),
  });
  const events: string[] = [];
  const a = new LeaderLease({
    store,
    name: 'scheduler',
    owner: 'a',
    ttlMs: 300,
    onGain: ({ takeover }) => void events.push(takeover ? 'takes over' : 'starts'),
    onLose: () => {
      events.push('loses');
      storeDown = false;
    },
    log: quiet,
  });
  try {
    await a.start();
    storeDown = true;
    await until(() => events.length === 3, 'a to lose and win the lease back');
    assert.deepEqual(events, ['starts', 'loses', 'takes over']);
  } finally {
    await a.stop();
    await stores.close();
  }
});

test('a node restarted under the same id waits for the lease its predecessor left, then takes over', async () => {
  const stores = openSqliteStores(':memory:');
  const gains: string[] = [];
  const lease = (label: string) => recordedLease(stores.cluster, 'web-1', label, gains);
  // The restarted process comes up while its predecessor's lease is still held (as after a crash).
  const predecessor = lease('predecessor');
  const restarted = lease('restarted');
  try {
    await predecessor.start();
    await restarted.start();
    assert.equal(restarted.isLeader, false, 'the lease is not renewed as if it were its own');
    await predecessor.stop(); // its lease ends (as it expires after a crash)
    await until(() => restarted.isLeader, 'the restarted process to lead');
    assert.deepEqual(gains, ['predecessor starts', 'restarted takes over']);
  } finally {
    await predecessor.stop();
    await restarted.stop();
    await stores.close();
  }
});
