/**
 * Cron across three nodes on one PostgreSQL (issue 14): a schedule every second for 15 s, the
 * leader SIGKILLed in the middle. Another node leads within the lease, runs the ticks that fell
 * due meanwhile (late, once), and every due time runs exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { startCluster, type TestCluster, type TestNode } from './cluster-helpers.ts';
import { apiJson, eventually, mustDeploy, writeFunction } from './harness.ts';

const LEASE_MS = 2000;

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster(['a', 'b', 'c'], ['--leader-lease', `${LEASE_MS / 1000}s`]);
});
after(async () => {
  await cluster?.dispose();
});

async function leaderOf(nodes: TestNode[]): Promise<TestNode | undefined> {
  for (const n of nodes) if ((await apiJson(n, '/status')).leader === true) return n;
  return undefined;
}

test('a schedule every second for 15 s, the leader killed in the middle: each due time runs exactly once', async () => {
  const [a] = cluster.nodes;
  assert.ok(a);
  const sql = postgres(cluster.storeUrl, { max: 2, onnotice: () => {} });
  try {
    await mustDeploy(
      a,
      await writeFunction({
        'kumo.yaml': 'name: tick\nschedule:\n  cron: "* * * * * *"\n  overlap: allow\n',
        'index.js': `export default { fetch: () => new Response('tick') };\n`,
      }),
    );
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 6000));
    const leader = await eventually(() => leaderOf(cluster.nodes), 5000, 'a leader');
    await cluster.kill(leader);
    const killedAt = Date.now();
    const others = cluster.nodes.filter((n) => n !== leader);
    const next = await eventually(() => leaderOf(others), 10_000, 'a new leader');
    const takeover = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, Math.max(0, started + 15_000 - Date.now())));
    const until = Date.now() - 1500;
    const rows = await sql<{ at: string; node: string | null }[]>`
      SELECT (request::jsonb)->'headers'->>'x-kumo-scheduled-at' AS at, node FROM invocations
      WHERE function = 'tick' AND trigger = 'cron'`;
    const due = rows.map((r) => Date.parse(r.at)).sort((x, y) => x - y);
    const counts = new Map<number, number>();
    for (const t of due) counts.set(t, (counts.get(t) ?? 0) + 1);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no due time ran twice',
    );
    const first = due[0] ?? 0;
    const missing: number[] = [];
    for (let t = first; t <= until; t += 1000) if (!counts.has(t)) missing.push(t);
    if (missing.length)
      for (const n of cluster.nodes)
        console.log(
          n.id,
          n
            .output()
            .split('\n')
            .filter((l) => /cluster|schedul|tick|ERROR|WARN/.test(l))
            .join('\n'),
        );
    assert.deepEqual(missing, [], 'every due time ran');
    assert.ok(due.length >= 12, `${due.length} ticks`);
    assert.ok(takeover <= LEASE_MS * 2 + 1000, `new leader ${next.id} after ${takeover} ms`);
  } finally {
    await sql.end();
  }
});
