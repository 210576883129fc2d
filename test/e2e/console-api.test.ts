/**
 * The API additions the web console reads, through HTTP as any client would: GET /overview,
 * GET /functions/NAME/stats/buckets, log search (q, until), and the scopes they need.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

interface Bucket {
  start: number;
  count: number;
  errors: number;
  p50: number;
  p95: number;
  coldStarts: number;
  instances: number;
}

describe('console API: overview, stats buckets, log search', () => {
  let server: TestServer;
  let readKey = '';
  before(async () => {
    server = await startTestServer();
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: counted\n',
        'index.js': `export default { async fetch(req) {
          const text = await req.text();
          console.log('line ' + text);
          return new Response(text, { status: text === 'fail' ? 500 : 200 });
        } };\n`,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: quiet\n',
        'index.js': 'export default () => new Response("");\n',
      }),
    );
    for (const body of ['a', 'b', 'Needle c', 'fail'])
      await (await invoke(server, 'counted', '/', { method: 'POST', body })).text();
    const created = (await (
      await api(server, '/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'reader', scopes: ['read'] }),
      })
    ).json()) as { key: string };
    readKey = created.key;
  });
  after(() => server.dispose());

  test('GET /overview returns every function with its 24 h figures and a sparkline in one call', async () => {
    const o = await apiJson<{
      since: number;
      step: number;
      functions: {
        name: string;
        runtime: string;
        activeVersion: number;
        count: number;
        errors: number;
        errorRate: number;
        p95: number;
        coldShare: number;
        instances: { total: number };
        spark: number[];
      }[];
    }>(server, '/overview?since=24h&step=1h', { key: readKey });
    assert.equal(o.step, 3_600_000);
    assert.deepEqual(
      o.functions.map((f) => f.name),
      ['counted', 'quiet'],
    );
    const counted = o.functions[0];
    assert.ok(counted);
    assert.equal(counted.runtime, 'node');
    assert.equal(counted.activeVersion, 1);
    assert.equal(counted.count, 4);
    assert.equal(counted.errors, 1);
    assert.equal(counted.errorRate, 0.25);
    assert.ok(counted.p95 >= 0);
    assert.equal(counted.spark.length, 25, '24 h in hours, aligned: 25 buckets');
    assert.equal(
      counted.spark.reduce((a, b) => a + b, 0),
      4,
    );
    assert.equal(counted.spark.at(-1), 4, 'all in the current hour');
    assert.equal(o.functions[1]?.count, 0);
  });

  test('GET /functions/NAME/stats/buckets cuts a window into buckets of counts, errors, latency, cold starts and instances', async () => {
    const r = await apiJson<{
      function: string;
      since: number;
      until: number;
      step: number;
      buckets: Bucket[];
    }>(server, '/functions/counted/stats/buckets?since=1h&step=5m', { key: readKey });
    assert.equal(r.function, 'counted');
    assert.equal(r.step, 300_000);
    assert.equal(r.since % 300_000, 0, 'aligned to the step');
    assert.ok(r.buckets.length === 13, `${r.buckets.length} buckets`);
    const total = r.buckets.reduce((a, b) => a + b.count, 0);
    assert.equal(total, 4);
    const last = r.buckets.at(-1) as Bucket;
    assert.equal(last.count, 4);
    assert.equal(last.errors, 1);
    assert.equal(last.coldStarts, 0, 'the deploy started its instance');
    assert.ok(last.p95 >= last.p50);
    assert.ok(last.instances >= 1, 'an instance is running');
    const auto = await apiJson<{ step: number; buckets: Bucket[] }>(
      server,
      '/functions/counted/stats/buckets',
    );
    assert.equal(auto.step, 1_800_000, 'default: 24 h in about 48 buckets of 30 min');
    const bad = await api(server, '/functions/counted/stats/buckets?since=7d&step=1s');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /at most 1000/);
    assert.equal((await api(server, '/functions/counted/stats/buckets?step=soon')).status, 400);
    assert.equal((await api(server, '/functions/nobody/stats/buckets')).status, 404);
  });

  test('a read key can GET the overview and the buckets but not redrive; no key gets 401', async () => {
    assert.equal((await api(server, '/overview', {}, { key: null })).status, 401);
    assert.equal((await api(server, '/functions/counted/stats/buckets', {}, { key: null })).status, 401);
    assert.equal((await api(server, '/functions/counted/stats/buckets', {}, { key: readKey })).status, 200);
    const queued = await fetch(`${server.url}/async/fn/counted`, { method: 'POST', body: 'fail' });
    const { id } = (await queued.json()) as { id: string };
    const redrive = await api(server, `/invocations/${id}/redrive`, { method: 'POST' }, { key: readKey });
    assert.equal(redrive.status, 403);
    assert.match(((await redrive.json()) as { error: { message: string } }).error.message, /needs deploy/);
    const scopes = await apiJson<{
      routes: { method: string; path: string; scope: string }[];
    }>(server, '/scopes');
    for (const path of ['/api/v1/overview', '/api/v1/functions/:name/stats/buckets']) {
      const r = scopes.routes.find((x) => x.path === path);
      assert.deepEqual(r && { method: r.method, path: r.path, scope: r.scope }, {
        method: 'GET',
        path,
        scope: 'read',
      });
    }
  });

  test('GET /functions/NAME/logs?q= searches a window, ignoring case; until= ends it', async () => {
    const found = await eventually(
      async () => {
        const r = await apiJson<{ lines: { line: string }[] }>(
          server,
          '/functions/counted/logs?q=NEEDLE&since=1h',
        );
        return r.lines.length ? r : undefined;
      },
      5000,
      'the log line',
    );
    assert.deepEqual(
      found.lines.map((l) => l.line),
      ['line Needle c'],
    );
    const before = await apiJson<{ lines: unknown[] }>(
      server,
      `/functions/counted/logs?until=${Date.now() - 3_600_000}`,
    );
    assert.equal(before.lines.length, 0);
    const none = await apiJson<{ lines: unknown[] }>(server, '/functions/counted/logs?q=%25');
    assert.equal(none.lines.length, 0, 'a % is text, not a pattern');
  });

  test('the console is served without a key and its files hold no data', async () => {
    const page = await fetch(`${server.url}/ui`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const again = await fetch(`${server.url}/ui/app.js`, {
      headers: { 'if-none-match': (await fetch(`${server.url}/ui/app.js`)).headers.get('etag') ?? '' },
    });
    assert.equal(again.status, 304);
  });
});
