/**
 * Cron across three nodes on one PostgreSQL (issue 14): a schedule every second for 15 s, the
 * leader SIGKILLed in the middle. Another node leads within the lease, runs the ticks that fell
 * due meanwhile (late, once), and every due time runs exactly once. Then a leader whose tick
 * inserts fail (a trigger in the database refuses them, as if it died before each insert) is
 * killed: the next leader runs those due times, since nothing claimed them but their own rows.
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

const alive = (n: TestNode) => n.child.exitCode === null && n.child.signalCode === null;

/** How many cron invocations of function `fn` were stored for each due time. */
async function runsByDueTime(sql: postgres.Sql, fn: string): Promise<Map<number, number>> {
  const rows = await sql<{ at: string }[]>`
    SELECT (request::jsonb)->'headers'->>'x-kumo-scheduled-at' AS at FROM invocations
    WHERE function = ${fn} AND trigger = 'cron'`;
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(Date.parse(r.at), (counts.get(Date.parse(r.at)) ?? 0) + 1);
  return counts;
}

/** The due times of an every-second schedule from `first` to `until` that have no run. */
function missingSeconds(counts: Map<number, number>, first: number, until: number): number[] {
  const missing: number[] = [];
  for (let t = first; t <= until; t += 1000) if (!counts.has(t)) missing.push(t);
  return missing;
}

/** Prints the nodes' cluster and cron log lines (a failure's context). */
function printCronLogs(): void {
  for (const n of cluster.nodes)
    console.log(
      n.id,
      n
        .output()
        .split('\n')
        .filter((l) => /cluster|schedul|tick|ERROR|WARN/.test(l))
        .join('\n'),
    );
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
    const counts = await runsByDueTime(sql, 'tick');
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no due time ran twice',
    );
    const missing = missingSeconds(counts, Math.min(...counts.keys()), until);
    if (missing.length) printCronLogs();
    assert.deepEqual(missing, [], 'every due time ran');
    assert.ok(counts.size >= 12, `${counts.size} ticks`);
    assert.ok(takeover <= LEASE_MS * 2 + 1000, `new leader ${next.id} after ${takeover} ms`);
  } finally {
    await sql.end();
  }
});

test('a leader that dies before its tick inserts commit loses no tick: the next leader runs those due times once', async () => {
  const sql = postgres(cluster.storeUrl, { max: 2, onnotice: () => {} });
  try {
    const [node] = cluster.nodes.filter(alive);
    assert.ok(node);
    await mustDeploy(
      node,
      await writeFunction({
        'kumo.yaml': 'name: lost\nschedule:\n  cron: "* * * * * *"\n  overlap: allow\n',
        'index.js': `export default { fetch: () => new Response('tick') };\n`,
      }),
    );
    await eventually(async () => (await runsByDueTime(sql, 'lost')).size >= 2, 10_000, 'the first ticks');
    const leader = await eventually(() => leaderOf(cluster.nodes.filter(alive)), 5000, 'a leader');
    // From here the leader's tick inserts fail, as if it died just before each: with a separate
    // claim committed first (the old design) these due times were claimed and never run.
    await sql.unsafe(`
      CREATE FUNCTION refuse_lost_ticks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'test: the leader dies before this insert'; END $$;
      CREATE TRIGGER refuse_lost_ticks BEFORE INSERT ON invocations FOR EACH ROW
        WHEN (NEW.function = 'lost' AND NEW.trigger = 'cron') EXECUTE FUNCTION refuse_lost_ticks();
    `);
    const refusedFrom = Date.now();
    // Two due times refused: both stay within the next leader's takeover window (three leases).
    await new Promise((r) => setTimeout(r, 2200));
    await cluster.kill(leader);
    const killedAt = Date.now();
    await sql.unsafe('DROP TRIGGER refuse_lost_ticks ON invocations');
    await eventually(() => leaderOf(cluster.nodes.filter(alive)), 10_000, 'a new leader');
    await new Promise((r) => setTimeout(r, 2500));
    const until = Date.now() - 1500;
    const counts = await runsByDueTime(sql, 'lost');
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no due time ran twice',
    );
    const refused: number[] = [];
    for (let t = Math.ceil((refusedFrom + 100) / 1000) * 1000; t < killedAt - 100; t += 1000) refused.push(t);
    assert.ok(refused.length >= 1, 'the dying leader had due times to lose');
    const missing = missingSeconds(counts, Math.min(...counts.keys()), until);
    if (missing.length) printCronLogs();
    assert.deepEqual(
      refused.filter((t) => !counts.has(t)),
      [],
      'the due times whose inserts failed ran',
    );
    assert.deepEqual(missing, [], 'every due time ran');
  } finally {
    await sql.end();
  }
});
