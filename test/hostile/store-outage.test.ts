/**
 * PostgreSQL stopped for 5 s under async load (issue 14): every invocation answered 202 ends
 * exactly once, the async intake answers 503 store_unavailable with Retry-After while the store
 * is down, warm sync calls keep being served from the node's memory and their history is written
 * once the store is back, /status and `kumo doctor` show the outage, and the node recovers with
 * no restart.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { startCluster, type TestCluster } from '../e2e/cluster-helpers.ts';
import { apiJson, eventually, invoke, kumo, mustDeploy, writeFunction } from '../e2e/harness.ts';

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster(['solo']);
});
after(async () => {
  await cluster?.dispose();
});

test('PostgreSQL paused 5 s under async load: nothing accepted is lost, intake 503 while down, sync served, everything resumes', async () => {
  const [node] = cluster.nodes;
  assert.ok(node);
  await mustDeploy(
    node,
    await writeFunction({
      'kumo.yaml': 'name: load\ninstances:\n  max: 2\nasync:\n  concurrency: 2\n',
      'index.js': `export default { fetch: async (req) => new Response('ok ' + (await req.text())) };\n`,
    }),
  );
  assert.equal((await invoke(node, 'load')).status, 200);

  const accepted: string[] = [];
  const refused: { status: number; retryAfter: string | null; code: string }[] = [];
  let other = 0;
  let stop = false;
  let n = 0;
  const client = async () => {
    while (!stop) {
      const res = await invoke(node, 'load', '/', {
        method: 'POST',
        headers: { prefer: 'respond-async' },
        body: String(n++),
      }).catch(() => undefined);
      if (!res) other++;
      else if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
      else if (res.status === 503) {
        const body = (await res.json()) as { error: { code: string } };
        refused.push({
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          code: body.error.code,
        });
      } else {
        other++;
        await res.body?.cancel();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const clients = Array.from({ length: 4 }, client);
  await new Promise((r) => setTimeout(r, 1500));

  await cluster.pg.pause();
  const down = Date.now();
  // Warm sync calls are served from memory while the store is down.
  const syncWhileDown: number[] = [];
  for (let i = 0; i < 5; i++)
    syncWhileDown.push((await invoke(node, 'load', '/', { method: 'POST', body: `s${i}` })).status);
  await eventually(async () => refused.length > 0, 5000, 'a 503 from the intake');
  const status = await apiJson(node, '/status');
  assert.equal((status.store as { healthy: boolean }).healthy, false, '/status shows the outage');
  const doctor = await kumo(node.url, ['doctor'], undefined, { env: { KUMO_URL: node.url } });
  assert.match(doctor.stdout, /UNREACHABLE/);
  await new Promise((r) => setTimeout(r, Math.max(0, down + 5000 - Date.now())));
  await cluster.pg.resume();

  await eventually(
    async () => ((await apiJson(node, '/status')).store as { healthy: boolean }).healthy,
    10_000,
    'the store to be healthy',
  );
  const before = accepted.length;
  await eventually(() => accepted.length > before + 5, 10_000, 'async intake to accept again');
  stop = true;
  await Promise.all(clients);

  assert.deepEqual(
    syncWhileDown,
    [200, 200, 200, 200, 200],
    'warm sync calls served while the store was down',
  );
  assert.ok(
    refused.every((r) => r.code === 'store_unavailable' && r.retryAfter !== null),
    JSON.stringify(refused.slice(0, 3)),
  );
  assert.equal(other, 0, 'no other answer than 202 or 503');

  const sql = postgres(cluster.storeUrl, { max: 1, onnotice: () => {} });
  try {
    await eventually(
      async () => {
        const [row] = await sql<{ n: string }[]>`SELECT COUNT(*) AS n FROM invocations
          WHERE id IN ${sql(accepted)} AND status = 'succeeded'`;
        return Number(row?.n) === accepted.length;
      },
      30_000,
      'every accepted invocation to succeed',
    );
    const rows = await sql<
      { id: string; attempt: number }[]
    >`SELECT id, attempt FROM invocations WHERE id IN ${sql(accepted)}`;
    assert.equal(rows.length, accepted.length, 'nothing accepted was lost');
    // The sync calls served while the store was down reach the history once it is back.
    await eventually(
      async () => {
        const [row] = await sql<{ n: string }[]>`SELECT COUNT(*) AS n FROM invocations
          WHERE function = 'load' AND trigger = 'http' AND convert_from(request_body, 'UTF8') LIKE 's%'`;
        return Number(row?.n) === 5;
      },
      10_000,
      'the history of the sync calls',
    );
  } finally {
    await sql.end();
  }
  console.log(`${accepted.length} accepted, ${refused.length} refused with 503 during the outage`);
});
