/**
 * The examples for the reference documents, deployed with the CLI as their walkthroughs do and
 * invoked as their users would: the lua action server's hello/evil/insert/query, ShortedFaaS's
 * run.json executable and python lambda, the eserveless project, and one example per runtime.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  apiJson,
  eventually,
  invoke,
  kumo,
  mustDeploy,
  ROOT,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

const example = (name: string) => path.join(ROOT, 'examples', name);

describe('examples of the reference documents', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    const names = [
      'lua-hello',
      'lua-evil',
      'lua-insert',
      'lua-query',
      'shorted-jq',
      'shorted-python',
      'python-handler',
      'exec-shell',
      'eserveless-node',
    ];
    // In parallel: different functions deploy independently, and each CLI start costs a Node start.
    const results = await Promise.all(names.map((name) => kumo(server.url, ['deploy', example(name)])));
    results.forEach((res, i) => assert.equal(res.code, 0, `${names[i]}: ${res.stderr}`));
  });
  after(() => server.dispose());

  test('lua: hello blocking and async, as the lua action server walkthrough runs it', async () => {
    const blocking = await kumo(server.url, [
      'invoke',
      'hello',
      '--data-file',
      example('lua-hello/payload.json'),
    ]);
    assert.equal(blocking.code, 0, blocking.stderr);
    assert.equal(blocking.stdout.trim(), 'Hello from Lua');
    const queued = await kumo(server.url, [
      'invoke',
      'hello',
      '--async',
      '--data-file',
      example('lua-hello/payload.json'),
    ]);
    assert.equal(queued.code, 0, queued.stderr);
    const id = /[0-9a-f-]{36}/.exec(queued.stdout)?.[0];
    assert.ok(id, queued.stdout);
    const resolved = await eventually(
      async () => {
        const r = await kumo(server.url, ['result', id]);
        return r.code === 0 && r.stdout.includes('Hello') && r;
      },
      15_000,
      'the async result',
    );
    assert.equal(resolved.stdout.trim(), 'Hello from Lua');
    const list = await kumo(server.url, ['list']);
    assert.match(list.stdout, /hello/);
  });

  test('lua: evil is aborted by the VM memory limit and the server log says so', async () => {
    const res = await invoke(server, 'evil', '/', { method: 'POST' });
    assert.equal(res.status, 500);
    await eventually(
      () =>
        server.logLines.some((l) => l.includes("Function 'evil' aborted after violating memory constraints")),
      5000,
      'the log line',
    );
  });

  test('lua: insert returns ids; query returns the documents with age > 50 (docs plugin)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await invoke(server, 'insert', '/', { method: 'POST' });
      assert.equal(res.status, 200);
      ids.push(await res.text());
    }
    for (const id of ids) assert.match(id, /^[0-9a-f]{24}$/);
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: all-docs\nruntime: lua\nplugins: [docs]\n',
        'all.lua': "function main() return call('docs', 'query', { collection = 'mongoplugin' }) end\n",
      }),
    );
    const all = (await (await invoke(server, 'all-docs', '/')).json()) as {
      _id: string;
      age: number;
      name: string;
    }[];
    assert.deepEqual(
      all.map((d) => d._id),
      ids,
    );
    const res = await invoke(server, 'query', '/', { method: 'POST' });
    const text = await res.text();
    const older = all.filter((d) => d.age > 50);
    // Lua has one empty table for {} and []: an empty result comes back as {}.
    assert.deepEqual(older.length ? JSON.parse(text) : [], older);
    for (const d of all) assert.equal(d.name, 'noname');
  });

  test('ShortedFaaS: the jq executable and the python lambda, through /f/NAME', async () => {
    const headers = { authorization: `Bearer ${server.adminKey}` };
    const jq = await fetch(`${server.url}/f/shorted-jq`, { method: 'POST', body: '{"a":1}', headers });
    assert.equal(jq.status, 200);
    assert.equal(await jq.text(), '{\n  "a": 1\n}\n');
    const py = await fetch(`${server.url}/f/shorted-python`, {
      method: 'POST',
      body: '{"name":"Ada"}',
      headers,
    });
    assert.deepEqual(await py.json(), { greeting: 'Hello, Ada!', method: 'POST' });
    const empty = await fetch(`${server.url}/f/shorted-python`, { method: 'POST', body: '', headers });
    assert.equal(empty.status, 400);
  });

  test('python-handler and exec-shell', async () => {
    const py = (await (await invoke(server, 'python-handler', '/?name=Ada')).json()) as {
      message: string;
      function: string;
    };
    assert.equal(py.message, 'Hello, Ada!');
    assert.equal(py.function, 'python-handler');
    const sh = await invoke(server, 'exec-shell', '/some/path?x=1', { method: 'POST', body: 'hello' });
    assert.equal(await sh.text(), 'you sent POST: hello (query x=1)\n');
  });

  test('eserveless: API answers over HTTP, Ticker gets its meta and is scheduled', async () => {
    const api = await invoke(server, 'api', '/');
    assert.equal(api.status, 200);
    assert.equal(await api.text(), 'Hello, World!');
    await eventually(
      async () => {
        const logs = await apiJson<{ lines: { line: string }[] }>(server, '/functions/api/logs');
        return logs.lines.some((l) =>
          /Client ip address is (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)\./.test(l.line),
        );
      },
      10_000,
      'the client address in the logs',
    );
    const tick = await invoke(server, 'ticker', '/', { method: 'POST' });
    assert.equal(tick.status, 200);
    await eventually(
      async () => {
        const logs = await apiJson<{ lines: { line: string }[] }>(server, '/functions/ticker/logs');
        return logs.lines.some((l) => l.line.includes("path: '/usr/bin'") && l.line.includes("name: 'prod'"));
      },
      10_000,
      'the meta in the logs',
    );
    const schedules = await apiJson<{ schedules: { cron: string }[] }>(server, '/functions/ticker/schedules');
    assert.deepEqual(
      schedules.schedules.map((s) => s.cron),
      ['*/1 * * * *'],
    );
  });
});
