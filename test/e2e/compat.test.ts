import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, mustDeploy, startTestServer, writeFunction, type TestServer } from './harness.ts';

/** A request to one of ShortedFaaS's routes (not the control API), with the admin key unless `key: null`. */
function compat(
  server: TestServer,
  path: string,
  init: RequestInit = {},
  key: string | null = server.adminKey,
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key !== null) headers.set('authorization', `Bearer ${key}`);
  return fetch(`${server.url}${path}`, { ...init, headers });
}

describe('ShortedFaaS compatibility routes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await mustDeploy(
      server,
      await writeFunction({ 'run.json': '{"type":"executable","command":"jq","arguments":"-c ."}' }),
      'name=jq',
    );
  });
  after(() => server.dispose());

  test('POST /f/NAME runs the function synchronously', async () => {
    const res = await compat(server, '/f/jq', { method: 'POST', body: '{"a": 1}' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"a":1}\n');
    const failed = await compat(server, '/f/jq', { method: 'POST', body: '{nope' });
    assert.equal(failed.status, 500);
  });

  test('POST /a/NAME answers 202 with an id; GET /r/NAME/ID is 202 until done, then the output or 500', async () => {
    const accepted = await compat(server, '/a/jq', { method: 'POST', body: '{"b": 2}' });
    assert.equal(accepted.status, 202);
    const { id } = (await accepted.json()) as { id: string };
    assert.ok(id);
    const done = await eventually(
      async () => {
        const r = await compat(server, `/r/jq/${id}`);
        if (r.status === 202) return undefined;
        return r;
      },
      15_000,
      'the async result',
    );
    assert.equal(done.status, 200);
    assert.equal(await done.text(), '{"b":2}\n');

    const bad = (await (await compat(server, '/a/jq', { method: 'POST', body: '{nope' })).json()) as {
      id: string;
    };
    const failed = await eventually(
      async () => {
        const r = await compat(server, `/r/jq/${bad.id}`);
        return r.status === 202 ? undefined : r;
      },
      30_000,
      'the failed result',
    );
    assert.equal(failed.status, 500);
    const elsewhere = await compat(server, `/r/other/${bad.id}`);
    assert.equal(elsewhere.status, 404, 'a result is only found under its own function');
  });

  test('a plain lambda(input, environment) answers 200 live and 202 by default when queued', async () => {
    // A server of its own, so the listings checked below stay as they are.
    const server = await startTestServer();
    after(() => server.dispose());
    for (const [name, files] of [
      [
        'plainjs',
        {
          'kumo.yaml': 'handler: lambda.js\n',
          'lambda.js': 'export function lambda(input, environment) { return "got " + input; }\n',
        },
      ],
      ['plainpy', { 'lambda.py': 'def main(input, environment):\n    return "got " + input\n' }],
    ] as const) {
      await mustDeploy(server, await writeFunction(files), `name=${name}`);
      const live = await compat(server, `/f/${name}`, { method: 'POST', body: 'x' });
      assert.equal(live.status, 200, name);
      assert.equal(await live.text(), 'got x');
      const { id } = (await (await compat(server, `/a/${name}`, { method: 'POST', body: 'y' })).json()) as {
        id: string;
      };
      const done = await eventually(
        async () => {
          const r = await compat(server, `/r/${name}/${id}`);
          return r.headers.get('x-kumo-status') === 'succeeded' ? r : undefined;
        },
        20_000,
        `the queued run of ${name}`,
      );
      assert.equal(done.status, 202, name);
      assert.equal(await done.text(), 'got y');
    }
  });

  test('GET /list, /history and /history/ID are the control API lists, under the same auth', async () => {
    const list = (await (await compat(server, '/list')).json()) as { functions: { name: string }[] };
    assert.deepEqual(
      list.functions.map((f) => f.name),
      ['jq'],
    );
    await compat(server, '/f/jq', { method: 'POST', body: '[1]' });
    const history = await eventually(
      async () => {
        const h = (await (await compat(server, '/history')).json()) as {
          invocations: { id: string; function: string; statusCode?: number }[];
        };
        return h.invocations.length > 0 && h;
      },
      10_000,
      'history',
    );
    const first = history.invocations[0];
    assert.equal(first?.function, 'jq');
    const one = await compat(server, `/history/${first?.id}`);
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as { id: string }).id, first?.id);
    for (const path of ['/list', '/history']) {
      const anonymous = await compat(server, path, {}, null);
      assert.equal(anonymous.status, 401, `${path} needs a key like the API it stands for`);
    }
  });
});
