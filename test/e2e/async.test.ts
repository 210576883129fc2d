import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  eventually,
  invoke,
  kumo,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';
import { startReceiver, type Receiver } from './async-helpers.ts';

interface HistoryItem {
  id: string;
  function: string;
  trigger: string;
  status: string;
  attempt: number;
  statusCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}
interface Attempt {
  attempt: number;
  startedAt: number;
  finishedAt: number | null;
  statusCode: number | null;
  outcome: string | null;
}

/** Polls GET /invocations/ID until it stops answering 202. */
async function result(server: TestServer, id: string, ms = 20_000): Promise<Response> {
  return eventually(
    async () => {
      const res = await fetch(`${server.url}/invocations/${id}`);
      if (res.status === 202) {
        await res.body?.cancel();
        return undefined;
      }
      return res;
    },
    ms,
    `invocation ${id} to finish`,
  );
}

describe('async invocations', () => {
  let server: TestServer;
  let receiver: Receiver;
  before(async () => {
    server = await startTestServer(['--retry-backoff', '1s']);
    receiver = await startReceiver();
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: slowecho\nconcurrency: 4\n',
        'index.js': `export default { async fetch(req) {
          const url = new URL(req.url);
          const ms = Number(url.searchParams.get('ms') ?? 0);
          if (ms) await new Promise((r) => setTimeout(r, ms));
          return Response.json({ body: await req.text(), path: url.pathname, id: req.headers.get('x-kumo-invocation-id'),
            attempt: req.headers.get('x-kumo-attempt'), callback: req.headers.get('x-callback-url') }, { status: 201, headers: { 'x-mine': 'yes' } });
        } };\n`,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        // One instance, so the per-invocation counter below sees every attempt.
        'kumo.yaml': 'name: flaky\ninstances:\n  max: 1\nasync:\n  concurrency: 1\n',
        'index.js': `const seen = new Map();
          export default { fetch(req) {
            const id = req.headers.get('x-kumo-invocation-id');
            const n = (seen.get(id) ?? 0) + 1;
            seen.set(id, n);
            if (n <= 2) return new Response('not yet', { status: 503 });
            return Response.json({ succeededOnCall: n });
          } };\n`,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: broken\nretries: 1\n',
        'index.js': "export default () => new Response('always broken', { status: 500 });\n",
      }),
    );
  });
  after(async () => {
    await receiver.close();
    await server.dispose();
  });

  test("Prefer: respond-async answers 202 with Location; the result is 202 until the function's own answer", async () => {
    const res = await invoke(server, 'slowecho', '/some/path?ms=600', {
      method: 'POST',
      headers: { prefer: 'respond-async', 'content-type': 'text/plain' },
      body: 'hello async',
    });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { id: string; status: string };
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.equal(body.status, 'queued');
    assert.equal(res.headers.get('location'), `/invocations/${body.id}`);
    const pending = await fetch(`${server.url}/invocations/${body.id}`);
    assert.equal(pending.status, 202, 'still queued or running');
    assert.ok(['queued', 'running'].includes(((await pending.json()) as { status: string }).status));
    const done = await result(server, body.id);
    assert.equal(done.status, 201, "the function's own status");
    assert.equal(done.headers.get('x-mine'), 'yes', "the function's own headers");
    assert.equal(done.headers.get('x-kumo-status'), 'succeeded');
    const out = (await done.json()) as { body: string; path: string; id: string; attempt: string };
    assert.deepEqual(out, {
      body: 'hello async',
      path: '/some/path',
      id: body.id,
      attempt: '1',
      callback: null,
    });
    const unknown = await fetch(`${server.url}/invocations/00000000-0000-0000-0000-000000000000`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'invocation_not_found');
  });

  test('/async/fn/NAME with X-Callback-Url posts {id, status, output, task-token} to the receiver', async () => {
    const res = await fetch(`${server.url}/async/fn/slowecho/cb`, {
      method: 'POST',
      headers: { 'x-callback-url': `${receiver.url}/hook`, 'x-task-token': 'tok-123' },
      body: 'with callback',
    });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const delivered = await eventually(
      () => receiver.bodies.find((b) => b.id === id),
      20_000,
      'the callback',
    );
    assert.deepEqual(Object.keys(delivered).sort(), ['id', 'output', 'status', 'task-token']);
    assert.equal(delivered.status, 'succeeded');
    assert.equal(delivered['task-token'], 'tok-123');
    assert.equal((delivered.output as { body: string; callback: string | null }).body, 'with callback');
    assert.equal(
      (delivered.output as { callback: string | null }).callback,
      null,
      'control headers do not reach the function',
    );
    const record = await eventually(
      async () => {
        const r = await apiJson<{ callback: { state: string } | null }>(server, `/invocations/${id}`);
        return r.callback?.state === 'delivered' ? r : undefined;
      },
      5000,
      'the callback to be marked delivered',
    );
    assert.equal(record.callback?.state, 'delivered');
  });

  test("kumo invoke --async prints the id; kumo result --wait prints the function's answer", async () => {
    const queued = await kumo(server.url, [
      'invoke',
      'slowecho',
      '--async',
      '--data',
      'from the cli',
      '--path',
      '/cli?ms=2500',
    ]);
    assert.equal(queued.code, 0, queued.stderr);
    const id = queued.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const pending = await kumo(server.url, ['result', id]);
    assert.equal(pending.code, 3, 'not finished yet');
    assert.match(pending.stderr, /is (queued|running)/);
    const done = await kumo(server.url, ['result', id, '--wait', '--json']);
    assert.equal(done.code, 0, done.stderr);
    const out = JSON.parse(done.stdout) as { status: string; statusCode: number; body: string };
    assert.equal(out.status, 'succeeded');
    assert.equal(out.statusCode, 201);
    assert.equal((JSON.parse(out.body) as { body: string }).body, 'from the cli');
    const usage = await kumo(server.url, ['invoke', 'slowecho', '--callback', 'http://127.0.0.1/']);
    assert.equal(usage.code, 2, '--callback needs --async');
  });

  test('callbacks to cloud metadata and link-local addresses are refused with 400 callback_not_allowed', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://169.254.1.1:8080/x',
      'file:///etc/passwd',
    ]) {
      const res = await invoke(server, 'slowecho', '/', {
        method: 'POST',
        headers: { prefer: 'respond-async', 'x-callback-url': url },
        body: 'x',
      });
      assert.equal(res.status, 400, url);
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        'callback_not_allowed',
        url,
      );
    }
  });

  test('a function failing twice then succeeding ends succeeded on attempt 3 with the backoff visible', async () => {
    const res = await fetch(`${server.url}/async/fn/flaky`, { method: 'POST', body: 'retry me' });
    const { id } = (await res.json()) as { id: string };
    const done = await result(server, id, 30_000);
    assert.equal(done.status, 200);
    assert.deepEqual(await done.json(), { succeededOnCall: 3 });
    const record = await apiJson<HistoryItem & { attempts: Attempt[] }>(server, `/invocations/${id}`);
    assert.equal(record.status, 'succeeded');
    assert.equal(record.attempt, 3);
    assert.deepEqual(
      record.attempts.map((a) => [a.attempt, a.statusCode, a.outcome]),
      [
        [1, 503, 'error'],
        [2, 503, 'error'],
        [3, 200, 'ok'],
      ],
    );
    const [a1, a2, a3] = record.attempts as [Attempt, Attempt, Attempt];
    const gap1 = a2.startedAt - (a1.finishedAt ?? 0);
    const gap2 = a3.startedAt - (a2.finishedAt ?? 0);
    assert.ok(gap1 >= 1000, `first retry waited ${gap1}ms (backoff 1s)`);
    assert.ok(gap2 >= 2000, `second retry waited ${gap2}ms (backoff doubled)`);
    assert.ok(gap2 > gap1, 'the backoff grows');
  });

  test('retries spent: the invocation is dead, listed by kumo history --status dead, and kumo redrive runs it again', async () => {
    const res = await fetch(`${server.url}/async/fn/broken`, { method: 'POST' });
    const { id } = (await res.json()) as { id: string };
    const done = await result(server, id, 20_000);
    assert.equal(done.status, 500);
    assert.equal(done.headers.get('x-kumo-status'), 'dead');
    assert.equal(await done.text(), 'always broken');
    const dead = await apiJson<{ invocations: HistoryItem[] }>(
      server,
      '/history?status=dead&function=broken',
    );
    assert.ok(
      dead.invocations.some((i) => i.id === id && i.attempt === 2),
      'dead after 1 + retries(1) attempts',
    );

    const cli = await kumo(server.url, ['history', '--status', 'dead', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(
      (JSON.parse(cli.stdout) as { invocations: HistoryItem[] }).invocations.some((i) => i.id === id),
    );
    const table = await kumo(server.url, ['history', 'broken', '--status', 'dead']);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(table.stdout.includes(id.slice(0, 8)), table.stdout);

    const redriven = await kumo(server.url, ['redrive', id]);
    assert.equal(redriven.code, 0, redriven.stderr);
    const again = await eventually(
      async () => {
        const r = await apiJson<HistoryItem>(server, `/invocations/${id}`);
        return r.status === 'dead' && r.attempt === 4 ? r : undefined;
      },
      20_000,
      'the redriven invocation to run its attempts',
    );
    assert.equal(again.attempt, 4, 'redrive ran it again (attempts 3 and 4)');
    const conflict = await api(server, `/invocations/${id}/redrive`, { method: 'POST' });
    assert.equal(conflict.status, 202, 'a dead invocation can be redriven again');
    await result(server, id, 20_000);
  });

  test('async.concurrency bounds parallel runs while sync requests still get through', async () => {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: bounded\nconcurrency: 1\ninstances:\n  max: 4\nasync:\n  concurrency: 2\n',
        'index.js': `export default { async fetch(req) {
            const t0 = Date.now();
            if (new URL(req.url).searchParams.get('slow')) await new Promise((r) => setTimeout(r, 500));
            return Response.json({ t0, t1: Date.now() });
          } };\n`,
      }),
    );
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${server.url}/async/fn/bounded/?slow=1`, { method: 'POST' });
      ids.push(((await res.json()) as { id: string }).id);
    }
    // While 8 slow async runs are queued at 2 at a time, a sync request is served at once.
    const t0 = Date.now();
    const sync = await invoke(server, 'bounded');
    assert.equal(sync.status, 200);
    assert.ok(Date.now() - t0 < 1500, `sync request took ${Date.now() - t0}ms behind the async queue`);
    const spans: [number, number][] = [];
    for (const id of ids)
      spans.push(
        Object.values((await (await result(server, id)).json()) as { t0: number; t1: number }) as [
          number,
          number,
        ],
      );
    const events = spans.flatMap(([s, e]) => [
      [s, 1],
      [e, -1],
    ]);
    events.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
    let live = 0;
    let peak = 0;
    for (const [, d] of events) peak = Math.max(peak, (live += d as number));
    assert.equal(peak, 2, 'at most async.concurrency runs at once, and it is reached');
  });
});
