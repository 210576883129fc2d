import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  eventually,
  invoke,
  kumo,
  mustDeploy,
  raw,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

interface HistoryItem {
  id: string;
  version: number;
  alias: string | null;
  status: string;
}

/** A function answering with the version its code says. */
async function version(n: number, extra = ''): Promise<string> {
  return writeFunction({
    'kumo.yaml': `name: greet\n${extra}`,
    'index.js': `export default { fetch: () => new Response('v${n}') };\n`,
  });
}

async function put(server: TestServer, fn: string, alias: string, body: unknown): Promise<Response> {
  return api(server, `/functions/${fn}/aliases/${alias}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('aliases: weighted routing, CLI, history', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    for (const n of [1, 2, 3]) await mustDeploy(server, await version(n));
  });
  after(() => server.dispose());

  test('kumo alias points an alias at a version, served at /fn/NAME@ALIAS and NAME--ALIAS.localhost', async () => {
    const set = await kumo(server.url, ['alias', 'greet', 'live', '--version', '1']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /greet@live → v1/);
    const byPath = await invoke(server, 'greet@live', '/');
    assert.equal(await byPath.text(), 'v1');
    assert.equal(byPath.headers.get('x-kumo-version'), '1');
    const byHost = await raw(server.url, { path: '/', headers: { host: 'greet--live.localhost' } });
    assert.equal(byHost.body.toString(), 'v1');
    // The unqualified name still serves the active version.
    assert.equal(await (await invoke(server, 'greet', '/')).text(), 'v3');
    const listed = await kumo(server.url, ['alias', 'greet']);
    assert.match(listed.stdout, /live\s+v1\s+v1/);
    const list = await kumo(server.url, ['list']);
    assert.match(list.stdout, /live=v1/);
    const versions = await kumo(server.url, ['versions', 'greet']);
    assert.match(versions.stdout, /^1 .*live$/m);
    const fn = await apiJson<{ aliases: { name: string; version: number }[] }>(server, '/functions/greet');
    assert.deepEqual(fn.aliases, [{ name: 'live', version: 1, canary: null }]);
  });

  test('a canary at 10% serves ~10% of 1,000 calls from the new version, each call recorded in history', async () => {
    const set = await kumo(server.url, ['alias', 'greet', 'canary', '--version', '2', '--weight', '3=0.1']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /v2 90%, v3 10%/);
    const served = new Map<string, number>();
    const ids = new Map<string, string>();
    let next = 0;
    const worker = async () => {
      while (next < 1000) {
        next++;
        const res = await invoke(server, 'greet@canary', '/');
        const body = await res.text();
        assert.equal(res.status, 200);
        assert.equal(body, `v${res.headers.get('x-kumo-version')}`);
        served.set(body, (served.get(body) ?? 0) + 1);
        ids.set(res.headers.get('x-kumo-invocation-id') ?? '', body);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const fromCanary = served.get('v3') ?? 0;
    assert.equal(fromCanary + (served.get('v2') ?? 0), 1000);
    // Binomial(1000, 0.1): mean 100, sigma 9.5; 4 sigma either side.
    assert.ok(fromCanary >= 62 && fromCanary <= 138, `canary served ${fromCanary} of 1000`);
    const history = await eventually(async () => {
      const h = await apiJson<{ invocations: HistoryItem[] }>(server, '/history?function=greet&limit=1000');
      const mine = h.invocations.filter((i) => ids.has(i.id));
      return mine.length === 1000 ? mine : undefined;
    });
    for (const item of history) {
      assert.equal(item.alias, 'canary');
      assert.equal(`v${item.version}`, ids.get(item.id));
    }
    assert.equal(history.filter((i) => i.version === 3).length, fromCanary);
    const cli = await kumo(server.url, ['history', 'greet', '--limit', '5']);
    assert.match(cli.stdout, /v[23] via canary/);
  });

  test('an alias update is atomic: calls during many updates all succeed from one of its versions', async () => {
    assert.equal((await put(server, 'greet', 'swing', { version: 1 })).status, 200);
    let stop = false;
    const seen = new Set<string>();
    const caller = async () => {
      while (!stop) {
        const res = await invoke(server, 'greet@swing', '/');
        assert.equal(res.status, 200);
        seen.add(await res.text());
      }
    };
    const callers = Array.from({ length: 4 }, caller);
    for (let i = 0; i < 20; i++) {
      const res = await put(
        server,
        'greet',
        'swing',
        i % 2 ? { version: 1 } : { version: 2, canary: { version: 3, weight: 0.5 } },
      );
      assert.equal(res.status, 200);
    }
    stop = true;
    await Promise.all(callers);
    assert.deepEqual([...seen].sort(), ['v1', 'v2', 'v3']);
  });

  test('an async call through an alias runs the alias version and records the alias', async () => {
    const res = await fetch(`${server.url}/async/fn/greet@live/`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const done = await eventually(async () => {
      const r = await apiJson<HistoryItem>(server, `/invocations/${id}`);
      return r.status === 'succeeded' ? r : undefined;
    });
    assert.equal(done.version, 1);
    assert.equal(done.alias, 'live');
  });

  test('a version number as qualifier: /fn/NAME@2', async () => {
    assert.equal(await (await invoke(server, 'greet@2', '/')).text(), 'v2');
    const missing = await invoke(server, 'greet@99', '/');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'version_not_found');
  });

  test('errors: unknown alias 404, bad weight and missing version 400, delete', async () => {
    const unknown = await invoke(server, 'greet@nope', '/');
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'alias_not_found');
    for (const body of [
      { version: 1, canary: { version: 2, weight: 1.5 } },
      { version: 1, canary: { version: 2, weight: 0 } },
      { version: 1, canary: { version: 1, weight: 0.5 } },
      { version: 42 },
    ]) {
      const res = await put(server, 'greet', 'bad', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_alias');
    }
    const cli = await kumo(server.url, ['alias', 'greet', 'bad', '--version', '1', '--weight', '2=1.5']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /between 0 and 1/);
    const gone = await kumo(server.url, ['alias', 'greet', 'live', '--delete']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal((await invoke(server, 'greet@live', '/')).status, 404);
    assert.equal((await api(server, '/functions/greet/aliases/live')).status, 404);
  });

  test('a private function stays private through its aliases', async () => {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: hidden\naccess: private\n',
        'index.js': `export default { fetch: () => new Response('secret') };\n`,
      }),
    );
    assert.equal((await put(server, 'hidden', 'live', { version: 1 })).status, 200);
    assert.equal((await invoke(server, 'hidden@live', '/')).status, 401);
    const byHost = await raw(server.url, { path: '/', headers: { host: 'hidden--live.localhost' } });
    assert.equal(byHost.status, 401);
    const ok = await invoke(server, 'hidden@live', '/', {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    assert.equal(await ok.text(), 'secret');
  });
});
