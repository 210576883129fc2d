/**
 * Built code shared by content hash (issue 14): a node that cannot fetch a version's build from
 * the store answers 503 build_unavailable for that function (and stays healthy), and serves it
 * once the build can be fetched again (the change feed's next poll tries again).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { startCluster, type TestCluster } from './cluster-helpers.ts';
import { apiJson, eventually, invoke, mustDeploy, writeFunction } from './harness.ts';

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster(['a']);
});
after(async () => {
  await cluster?.dispose();
});

test('a node whose build cannot be fetched answers 503 build_unavailable, then serves it once the build is back', async () => {
  const [a] = cluster.nodes;
  assert.ok(a);
  const result = await mustDeploy(
    a,
    await writeFunction({
      'kumo.yaml': 'name: shared\n',
      'index.js': `export default { fetch: () => new Response('from the store') };\n`,
    }),
  );
  const sql = postgres(cluster.storeUrl, { max: 1, onnotice: () => {} });
  try {
    const [saved] = await sql<
      { hash: string; sha256: string; size: number; blob: Buffer; created_at: number }[]
    >`
      SELECT * FROM cluster_builds WHERE hash = ${String(result.hash)}`;
    assert.ok(saved, 'the build was published under its content hash');
    await sql`DELETE FROM cluster_builds WHERE hash = ${saved.hash}`;

    const b = await cluster.addNode('b');
    const refused = await invoke(b, 'shared');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('content-type')?.startsWith('application/json'), true);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'build_unavailable');
    assert.match(body.error.message, /'shared'/);
    assert.equal((await apiJson(b, '/status')).node, 'b', 'the node stays healthy');

    await sql`INSERT INTO cluster_builds ${sql(saved)}`;
    const back = Date.now();
    await eventually(async () => (await invoke(b, 'shared')).status === 200, 10_000, 'B to fetch the build');
    const r = await invoke(b, 'shared');
    assert.equal(await r.text(), 'from the store');
    console.log(`B served the build ${Date.now() - back} ms after it was back`);
  } finally {
    await sql.end();
  }
});
