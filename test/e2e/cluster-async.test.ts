/**
 * The async queue across three nodes on one PostgreSQL (issue 14): 600 invocations accepted
 * through all three, node B SIGKILLed while it holds leases and runs work. Its leases end after
 * the visibility timeout and the other nodes take the work: every invocation reaches exactly one
 * terminal state, every callback arrives, and only B's in-flight runs show a second attempt.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { startReceiver, type Receiver } from './async-helpers.ts';
import { startCluster, type TestCluster } from './cluster-helpers.ts';
import { eventually, invoke, mustDeploy, writeFunction } from './harness.ts';

let cluster: TestCluster;
let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
  cluster = await startCluster(['a', 'b', 'c'], ['--visibility-timeout', '2s']);
});
after(async () => {
  await cluster?.dispose();
  await receiver?.close();
});

const TOTAL = 600;

test('600 async invocations over three nodes, B killed while holding leases: one terminal state each, every callback, second attempts only for B', async () => {
  const [a, b, c] = cluster.nodes;
  assert.ok(a && b && c);
  await mustDeploy(
    a,
    await writeFunction({
      'kumo.yaml': 'name: work\ninstances:\n  max: 4\nasync:\n  concurrency: 4\n',
      'index.js': `export default { async fetch(req) {
        await new Promise((r) => setTimeout(r, 300));
        return new Response('done ' + (await req.text()));
      } };\n`,
    }),
  );
  for (const n of [b, c]) await eventually(async () => (await invoke(n, 'work')).status === 200, 5000);
  const sql = postgres(cluster.storeUrl, { max: 2, onnotice: () => {} });
  try {
    const ids: string[] = [];
    const nodes = [a, b, c];
    for (let i = 0; i < TOTAL; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const res = await invoke(nodes[(i + j) % 3] as { url: string }, 'work', '/', {
            method: 'POST',
            headers: { prefer: 'respond-async', 'x-callback-url': `${receiver.url}/done` },
            body: String(i + j),
          });
          assert.equal(res.status, 202);
          return ((await res.json()) as { id: string }).id;
        }),
      );
      ids.push(...batch);
    }
    // B is killed while it runs work: its runs stay `running`, leased to a node that is gone.
    const held = await eventually(
      async () => {
        const [row] = await sql<{ n: string }[]>`SELECT COUNT(*) AS n FROM invocations
          WHERE status = 'running' AND node = 'b'`;
        return Number(row?.n) > 0 ? Number(row?.n) : undefined;
      },
      20_000,
      'B to hold leases',
    );
    await cluster.kill(b);
    const killedAt = Date.now();

    await eventually(
      async () => {
        const [row] = await sql<{ n: string }[]>`SELECT COUNT(*) AS n FROM invocations
          WHERE id IN ${sql(ids)} AND status IN ('succeeded', 'failed', 'dead')`;
        return Number(row?.n) === TOTAL;
      },
      60_000,
      'every invocation to end',
    );
    const rows = await sql<{ id: string; status: string; attempt: number }[]>`SELECT id, status, attempt
      FROM invocations WHERE id IN ${sql(ids)}`;
    const attempts = await sql<
      { invocation_id: string; attempt: number; node: string | null; outcome: string | null }[]
    >`
      SELECT invocation_id, attempt, node, outcome FROM invocation_attempts WHERE invocation_id IN ${sql(ids)}
      ORDER BY invocation_id, attempt`;
    await eventually(
      () => new Set(receiver.bodies.map((body) => String(body.id))).size >= TOTAL,
      // Those B had claimed when it died are due again after the delivery deadline and 5 s.
      60_000,
      'every callback',
    );

    assert.equal(rows.length, TOTAL);
    const notDone = rows.filter((r) => r.status !== 'succeeded');
    assert.deepEqual(notDone, [], 'every invocation succeeded once');
    const retried = rows.filter((r) => r.attempt > 1);
    assert.ok(retried.length > 0 && retried.length <= 4, `B held ${held} runs; ${retried.length} ran twice`);
    for (const r of retried) {
      const first = attempts.find((x) => x.invocation_id === r.id && x.attempt === 1);
      assert.equal(first?.node, 'b', `only B's runs show a second attempt (${r.id})`);
      assert.equal(first?.outcome, 'interrupted');
    }
    for (const x of attempts.filter((x) => x.attempt === 1 && x.node === 'b' && x.outcome === 'interrupted'))
      assert.ok(retried.some((r) => r.id === x.invocation_id));
    const byId = new Map<string, number>();
    for (const body of receiver.bodies) byId.set(String(body.id), (byId.get(String(body.id)) ?? 0) + 1);
    assert.deepEqual(
      ids.filter((id) => !byId.has(id)),
      [],
      'every callback arrived',
    );
    const twice = [...byId].filter(([, n]) => n > 1).length;
    assert.ok(twice <= 16, `${twice} callbacks arrived twice (at most B's deliveries in flight)`);
    console.log(
      `B held ${held} leases; ${retried.length} runs taken over; all done ${Date.now() - killedAt} ms after the kill; ${twice} callbacks twice`,
    );
  } finally {
    await sql.end();
  }
});
