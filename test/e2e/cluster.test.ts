/**
 * Three kumo nodes on one PostgreSQL (issue 14): a deploy through one is served by the others, a
 * rollback through another is live everywhere within a second, /status names each node, and a
 * delete through one is a 404 on all.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from './cluster-helpers.ts';
import { api, apiJson, eventually, invoke, mustDeploy, writeFunction } from './harness.ts';

const app = (v: number) =>
  writeFunction({
    'kumo.yaml': `name: app\n`,
    'index.js': `export default { fetch: () => new Response('v${v}') };\n`,
  });

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster(['a', 'b', 'c']);
});
after(async () => {
  await cluster?.dispose();
});

/** When node `n` logged that it serves `version` of app (its routing switched), in ms after `since`. */
function switchedAfter(n: { output: () => string }, version: number, since: number): number {
  const lines = n.output().split('\n');
  const line = lines.findLast(
    (l) => l.includes('cluster: serving a version') && l.includes(` version=${version} `),
  );
  assert.ok(line, `no switch to version ${version} logged`);
  return Math.max(0, Date.parse(line.slice(0, 24)) - since);
}

/** Polls `url`'s app every 20 ms until it answers `text`; the time it took (ms). */
async function timeUntil(url: string, text: string, since: number): Promise<number> {
  await eventually(
    async () => {
      const r = await invoke({ url }, 'app');
      return r.status === 200 && (await r.text()) === text;
    },
    5000,
    `${url} to serve ${text}`,
  );
  return Date.now() - since;
}

test('deploy through A is served by B and C; rollback through C is live on A within 1 s; delete through B is a 404 everywhere', async () => {
  const [a, b, c] = cluster.nodes;
  assert.ok(a && b && c);
  for (const n of cluster.nodes) {
    const status = await apiJson(n, '/status');
    assert.equal(status.node, n.id);
    assert.equal((status.store as { healthy: boolean }).healthy, true);
  }
  await mustDeploy(a, await app(1));
  for (const n of [b, c]) await timeUntil(n.url, 'v1', Date.now());
  await mustDeploy(a, await app(2));
  const t0 = Date.now();
  await Promise.all([timeUntil(b.url, 'v2', t0), timeUntil(c.url, 'v2', t0)]);
  for (const n of [b, c]) {
    const ms = switchedAfter(n, 2, t0);
    // A new version's build is fetched first (the rollback below finds it cached): a looser bound.
    assert.ok(ms <= 3000, `${n.id} switched to the new version after ${ms} ms`);
  }

  const rolled = await api(c, '/functions/app/rollback', { method: 'POST' });
  assert.equal(rolled.status, 200, await rolled.clone().text());
  const t1 = Date.now();
  const served = await timeUntil(a.url, 'v1', t1);
  // Live: A routes to version 1 within 1 s; its first answer also waits for an instance to start.
  const live = switchedAfter(a, 1, t1);
  assert.ok(live <= 1000, `A switched to the old version after ${live} ms (served it after ${served} ms)`);
  assert.equal(await (await invoke(b, 'app')).text(), 'v1');

  const removed = await api(b, '/functions/app', { method: 'DELETE' });
  assert.ok(removed.status === 200 || removed.status === 204, String(removed.status));
  for (const n of [a, c])
    await eventually(async () => (await invoke(n, 'app')).status === 404, 2000, `${n.id} to forget app`);
});
