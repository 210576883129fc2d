import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deploy, invoke, mustDeploy, startTestServer, writeFunction, type TestServer } from './harness.ts';

type ErrorBody = { error: { code: string; message: string } };

/** A lua function that calls `call(plugin, action, payload)` with the JSON body {plugin, action, payload}. */
const CALLER =
  'function main(args)\n  return { result = call(args.plugin, args.action, args.payload) }\nend\n';

async function callVia(
  server: TestServer,
  fn: string,
  plugin: string,
  action: string,
  payload: unknown,
): Promise<Response> {
  return invoke(server, fn, '/', { method: 'POST', body: JSON.stringify({ plugin, action, payload }) });
}

async function result(res: Response): Promise<unknown> {
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { result: unknown }).result;
}

describe('plugins', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: kv-a\nruntime: lua\nplugins: [kv]\n', 'a.lua': CALLER }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: kv-b\nruntime: lua\nplugins: [kv, docs]\n',
        'b.lua': CALLER,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: bare\nruntime: lua\n', 'c.lua': CALLER }),
    );
  });
  after(() => server.dispose());

  test('kv: get, set, delete and list, one namespace per function, persisted across restarts', async () => {
    assert.equal(
      await result(
        await callVia(server, 'kv-a', 'kv', 'set', { key: 'user:1', value: { name: 'Ada', tags: ['x'] } }),
      ),
      true,
    );
    await result(await callVia(server, 'kv-a', 'kv', 'set', { key: 'user:2', value: 7 }));
    await result(await callVia(server, 'kv-a', 'kv', 'set', { key: 'other', value: 'o' }));
    assert.deepEqual(await result(await callVia(server, 'kv-a', 'kv', 'get', { key: 'user:1' })), {
      name: 'Ada',
      tags: ['x'],
    });
    assert.deepEqual(await result(await callVia(server, 'kv-a', 'kv', 'list', { prefix: 'user:' })), [
      { key: 'user:1', value: { name: 'Ada', tags: ['x'] } },
      { key: 'user:2', value: 7 },
    ]);
    const otherNamespace = (await (
      await callVia(server, 'kv-b', 'kv', 'get', { key: 'user:1' })
    ).json()) as Record<string, unknown>;
    assert.deepEqual(otherNamespace, {}, 'kv-b sees nothing of kv-a (nil result)');
    assert.equal(await result(await callVia(server, 'kv-a', 'kv', 'delete', { key: 'user:2' })), true);
    assert.equal(await result(await callVia(server, 'kv-a', 'kv', 'delete', { key: 'user:2' })), false);

    const dataDir = server.dataDir;
    const { startTestServer: start } = await import('./harness.ts');
    await server.close();
    server = await start([], dataDir);
    assert.deepEqual(await result(await callVia(server, 'kv-a', 'kv', 'get', { key: 'user:1' })), {
      name: 'Ada',
      tags: ['x'],
    });
  });

  test('docs: insert returns an id; query with $eq $ne $gt $gte $lt $lte $in; delete', async () => {
    const people = [
      { name: 'a', age: 20, city: 'x' },
      { name: 'b', age: 51, city: 'y' },
      { name: 'c', age: 80, city: 'x' },
    ];
    const ids: string[] = [];
    for (const data of people) {
      const id = await result(
        await callVia(server, 'kv-b', 'docs', 'insert', { collection: 'people', data }),
      );
      assert.match(String(id), /^[0-9a-f]{24}$/);
      ids.push(String(id));
    }
    const names = async (query: unknown) =>
      (
        (await result(await callVia(server, 'kv-b', 'docs', 'query', { collection: 'people', query }))) as {
          name: string;
        }[]
      ).map((d) => d.name);
    assert.deepEqual(await names({ age: { $gt: 50 } }), ['b', 'c']);
    assert.deepEqual(await names({ age: { $gte: 51, $lt: 80 } }), ['b']);
    assert.deepEqual(await names({ age: { $lte: 20 } }), ['a']);
    assert.deepEqual(await names({ city: 'x' }), ['a', 'c']);
    assert.deepEqual(await names({ city: { $eq: 'y' } }), ['b']);
    assert.deepEqual(await names({ city: { $ne: 'x' } }), ['b']);
    assert.deepEqual(await names({ name: { $in: ['a', 'c', 'z'] } }), ['a', 'c']);
    const all = (await result(await callVia(server, 'kv-b', 'docs', 'query', { collection: 'people' }))) as {
      _id: string;
    }[];
    assert.deepEqual(
      all.map((d) => d._id),
      ids,
    );
    assert.equal(
      await result(
        await callVia(server, 'kv-b', 'docs', 'delete', { collection: 'people', query: { city: 'x' } }),
      ),
      2,
    );
    assert.deepEqual(await names({}), ['b']);
    const bad = await callVia(server, 'kv-b', 'docs', 'query', {
      collection: 'people',
      query: { age: { $regex: 'x' } },
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as ErrorBody).error.code, 'plugin_error');
  });

  test('a plugin the manifest does not list is refused with plugin_not_allowed', async () => {
    const res = await callVia(server, 'bare', 'kv', 'get', { key: 'x' });
    assert.equal(res.status, 403);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'plugin_not_allowed');
    assert.match(body.error.message, /does not list plugin "kv"; add "plugins: \[kv\]"/);
    const docs = await callVia(server, 'kv-a', 'docs', 'query', { collection: 'people' });
    assert.equal(docs.status, 403);
  });

  test('a manifest listing a plugin this server lacks fails the deploy', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: mongo\nruntime: lua\nplugins: [mongo]\n',
      'm.lua': CALLER,
    });
    const res = await deploy(server, dir);
    assert.equal(res.status, 422);
    assert.match(
      (res.body as ErrorBody).error.message,
      /lists plugin "mongo", which this server does not have \(have: docs, kv\)/,
    );
  });

  test('node functions call plugins with the global call()', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: node-kv\nplugins: [kv]\n',
      'index.mjs':
        "export default { async fetch() {\n  const n = (await call('kv', 'get', { key: 'n' })) ?? 0;\n  await call('kv', 'set', { key: 'n', value: n + 1 });\n  let refused = '';\n  try { await call('docs', 'query', { collection: 'x' }); } catch (err) { refused = err.code; }\n  return Response.json({ n: n + 1, refused });\n} };\n",
    });
    await mustDeploy(server, dir);
    assert.deepEqual(await (await invoke(server, 'node-kv', '/')).json(), {
      n: 1,
      refused: 'plugin_not_allowed',
    });
    assert.deepEqual(await (await invoke(server, 'node-kv', '/')).json(), {
      n: 2,
      refused: 'plugin_not_allowed',
    });
  });
});
