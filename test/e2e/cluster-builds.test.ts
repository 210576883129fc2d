/**
 * Built code shared by content hash (issue 14): a node that cannot fetch a version's build from
 * the store answers 503 build_unavailable for that function (and stays healthy), and serves it
 * once the build can be fetched again (the change feed's next poll tries again). A function
 * deleted through either node, and a version pruned by a deploy on the other, leave no build
 * folder on any node: neither the builder's own nor the fetched copy. A deleted function's build
 * also leaves the store (`cluster_builds`) once it is past the grace period, and another
 * function's stays.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { startCluster, type TestCluster, type TestNode } from './cluster-helpers.ts';
import { api, apiJson, eventually, invoke, mustDeploy, writeFunction } from './harness.ts';

let cluster: TestCluster;
before(async () => {
  // One version kept besides the active one and its rollback target: a third deploy prunes.
  cluster = await startCluster(['a'], ['--keep-versions', '1']);
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

/** Node `node`'s build folder of content `hash`. */
const buildOf = (node: TestNode, hash: string) => path.join(node.dataDir, 'builds', hash);

/** Deploys function `name` answering `text` through `node`; its content hash. */
async function deployText(node: TestNode, name: string, text: string): Promise<string> {
  const result = await mustDeploy(
    node,
    await writeFunction({
      'kumo.yaml': `name: ${name}\n`,
      'index.js': `export default { fetch: () => new Response(${JSON.stringify(text)}) };\n`,
    }),
  );
  return String(result.hash);
}

/** Waits until `node` answers `text` for function `name` (it fetched and serves that version). */
async function serves(node: TestNode, name: string, text: string): Promise<void> {
  await eventually(
    async () => {
      const r = await invoke(node, name);
      return r.status === 200 && (await r.text()) === text;
    },
    10_000,
    `${node.id} to serve ${name}: ${text}`,
  );
}

test('a function deleted through either node leaves no build folder on any node, fetched or built', async () => {
  const [a, b] = cluster.nodes;
  assert.ok(a && b, 'the first test added node b');
  for (const [deleter, name] of [
    [a, 'gone-a'],
    [b, 'gone-b'],
  ] as const) {
    const hash = await deployText(a, name, `${name} lives`);
    await serves(b, name, `${name} lives`);
    assert.ok(existsSync(buildOf(a, hash)), 'the builder keeps its build');
    assert.ok(existsSync(buildOf(b, hash)), 'the other node keeps what it fetched');
    const res = await api(deleter, `/functions/${name}`, { method: 'DELETE' });
    assert.ok(res.ok, `delete through ${deleter.id}: ${res.status}`);
    for (const n of [a, b])
      await eventually(
        () => !existsSync(buildOf(n, hash)),
        10_000,
        `${n.id} to remove the build of ${name} (deleted through ${deleter.id})`,
      );
  }
});

test('a version pruned by a deploy on one node leaves no fetched copy on the other', async () => {
  const [a, b] = cluster.nodes;
  assert.ok(a && b);
  const hashes: string[] = [];
  for (const n of [1, 2, 3, 4]) {
    hashes.push(await deployText(a, 'pruned', `v${n}`));
    await serves(b, 'pruned', `v${n}`);
    assert.ok(existsSync(buildOf(b, hashes.at(-1) ?? '')), `b fetched v${n}`);
  }
  // v1 went when v3 was deployed (kept: v3, and v2 as its rollback target), so the sweep v4 caused saw it gone.
  const [v1] = hashes;
  assert.ok(v1);
  await eventually(() => !existsSync(buildOf(b, v1)), 10_000, 'b to remove the pruned v1');
  assert.ok(!existsSync(buildOf(a, v1)), 'the builder removed it when it pruned');
  assert.ok(existsSync(buildOf(b, hashes[3] ?? '')), 'the active version stays');
});

test('a deleted function’s build leaves the store once past the grace period; a used one stays, however old', async () => {
  const [a, b] = cluster.nodes;
  assert.ok(a && b);
  const sql = postgres(cluster.storeUrl, { max: 1, onnotice: () => {} });
  try {
    const stored = async (hash: string) =>
      (await sql`SELECT 1 FROM cluster_builds WHERE hash = ${hash}`).length > 0;
    const kept = await deployText(a, 'store-kept', 'kept');
    const dropped = await deployText(a, 'store-dropped', 'dropped');
    assert.ok((await stored(kept)) && (await stored(dropped)), 'both builds were published');
    // As if both were published long ago: only whether a version names them decides.
    await sql`UPDATE cluster_builds SET created_at = 0`;
    const res = await api(b, '/functions/store-dropped', { method: 'DELETE' });
    assert.ok(res.ok, `delete through b: ${res.status}`);
    await eventually(
      async () => !(await stored(dropped)),
      15_000,
      'the deleted function’s build to leave the store',
    );
    assert.equal(await stored(kept), true, 'the build a version uses stays');
    await serves(b, 'store-kept', 'kept');
    assert.ok(
      [a, b].some((n) => /removed builds no version uses any more from the store/.test(n.output())),
      'a node logged the removal',
    );
  } finally {
    await sql.end();
  }
});
