/**
 * Hostile callers of callbacks and plugins (issue 12): a callback receiver that drips a byte every
 * 2 s, callback URLs that embed the metadata address in IPv6 forms, a function filling kv and
 * docs without end, a function name reused after delete, and docs queries over many documents
 * hammering the server's event loop. Each case asserts the documented bound and that others are
 * not held up by the attacker.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  deploy,
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from '../e2e/harness.ts';
import { startReceiver } from '../e2e/async-helpers.ts';

type ErrorBody = { error: { code: string; message: string } };

/** A lua function that calls `call(plugin, action, payload)` with the JSON body {plugin, action, payload}. */
const CALLER =
  'function main(args)\n  return { result = call(args.plugin, args.action, args.payload) }\nend\n';

function callVia(server: TestServer, fn: string, plugin: string, action: string, payload: unknown) {
  return invoke(server, fn, '/', { method: 'POST', body: JSON.stringify({ plugin, action, payload }) });
}

async function resultOf(res: Response): Promise<unknown> {
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { result: unknown }).result;
}

/** A receiver that answers 200 at once, then drips one byte every 2 s and never ends. */
async function startDripper(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('.');
    const timer = setInterval(() => res.write('.'), 2000);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Delivery {
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: string;
  statusCode: number | null;
  error: string | null;
}
interface InvocationView {
  status: string;
  finishedAt: number | null;
  callback: { state: string; attempts: number; lastError: string | null; deliveries?: Delivery[] } | null;
}

describe('hostile callback receivers', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(['--callback-timeout', '4s']);
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: quick\nconcurrency: 16\nasync:\n  concurrency: 16\n',
        'index.js': 'export default { fetch: () => Response.json({ ok: true }) };\n',
      }),
    );
  });
  after(() => server.dispose());

  test('8 dripping receivers do not delay a healthy receiver; each drip is cut at the delivery deadline', async () => {
    const dripper = await startDripper();
    const healthy = await startReceiver();
    try {
      const dripIds: string[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${server.url}/async/fn/quick/drip${i}`, {
          method: 'POST',
          headers: { 'x-callback-url': `${dripper.url}/hook${i}` },
          body: 'x',
        });
        assert.equal(res.status, 202);
        dripIds.push(((await res.json()) as { id: string }).id);
      }
      await eventually(() => dripper.hits() >= 2, 10_000, 'the drippers to be called');
      const t0 = Date.now();
      const res = await fetch(`${server.url}/async/fn/quick/healthy`, {
        method: 'POST',
        headers: { 'x-callback-url': `${healthy.url}/hook` },
        body: 'y',
      });
      assert.equal(res.status, 202);
      const { id } = (await res.json()) as { id: string };
      await eventually(() => healthy.bodies.find((b) => b.id === id), 8000, 'the healthy callback');
      const late = Date.now() - t0;
      console.log(`healthy callback arrived ${late} ms after its request, with 8 dripping receivers`);
      assert.ok(late < 8000, `the healthy receiver got its callback after ${late} ms`);

      // The deadline (4 s here) covers the whole attempt: a receiver that keeps dripping is cut off.
      const first = dripIds[0] ?? '';
      const view = await eventually(
        async () => {
          const r = await apiJson<InvocationView>(server, `/invocations/${first}`);
          return r.callback?.deliveries?.length ? r : undefined;
        },
        15_000,
        'a recorded delivery attempt of a dripper',
      );
      const attempt = view.callback?.deliveries?.[0];
      assert.equal(attempt?.outcome, 'timeout', JSON.stringify(view.callback));
      assert.ok(
        (attempt?.durationMs ?? 0) >= 3500 && (attempt?.durationMs ?? 0) < 9000,
        `cut after ${attempt?.durationMs} ms`,
      );
      assert.match(attempt?.error ?? '', /4000 ?ms/);
      assert.equal(view.callback?.state, 'pending', 'a timed-out delivery is retried later');
    } finally {
      await dripper.close();
      await healthy.close();
    }
  });

  test('callback URLs embedding the metadata or loopback address in IPv6 forms are refused', async () => {
    for (const url of [
      'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/', // NAT64 well-known prefix
      'http://[64:ff9b::169.254.169.254]/',
      'http://[64:ff9b:1:a9fe:a9:fe00::]/', // NAT64 local-use prefix, /48 embedding
      'http://[::a9fe:a9fe]/', // IPv4-compatible
      'http://[::ffff:a9fe:a9fe]/', // IPv4-mapped
      'http://[::ffff:0:a9fe:a9fe]/', // IPv4-translated
      'http://[2002:a9fe:a9fe::1]/', // 6to4
      'http://[64:ff9b::7f00:1]/', // NAT64 of 127.0.0.1
      'http://[::7f00:1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::]/',
    ]) {
      const res = await fetch(`${server.url}/async/fn/quick`, {
        method: 'POST',
        headers: { 'x-callback-url': url },
        body: 'x',
      });
      assert.equal(res.status, 400, url);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'callback_not_allowed', url);
    }
  });
});

describe('hostile plugin users', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml':
          'name: hoarder\nruntime: lua\nplugins: [kv, docs]\nkv:\n  keys: 5\n  size: 1\ndocs:\n  documents: 4\n  size: 1\n',
        'h.lua': CALLER,
      }),
    );
  });
  after(() => server.dispose());

  test('kv: past its key or byte quota a set fails with plugin_quota_exceeded and the store does not grow', async () => {
    for (let i = 0; i < 5; i++)
      assert.equal(
        await resultOf(await callVia(server, 'hoarder', 'kv', 'set', { key: `k${i}`, value: i })),
        true,
      );
    const refused = await callVia(server, 'hoarder', 'kv', 'set', { key: 'k5', value: 5 });
    assert.equal(refused.status, 413, await refused.clone().text());
    const body = (await refused.json()) as ErrorBody;
    assert.equal(body.error.code, 'plugin_quota_exceeded');
    assert.match(body.error.message, /kv.*5 keys/);
    assert.equal(
      await resultOf(await callVia(server, 'hoarder', 'kv', 'set', { key: 'k4', value: 'replaced' })),
      true,
      'replacing a key within the quota is fine',
    );
    const list = (await resultOf(await callVia(server, 'hoarder', 'kv', 'list', {}))) as unknown[];
    assert.equal(list.length, 5);

    // Bytes: 1 MB in all. Free the keys, then fill with ~300 KB values.
    for (let i = 0; i < 5; i++)
      await resultOf(await callVia(server, 'hoarder', 'kv', 'delete', { key: `k${i}` }));
    const big = 'x'.repeat(300 * 1024);
    let stored = 0;
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await callVia(server, 'hoarder', 'kv', 'set', { key: `big${i}`, value: big });
      if (last.status !== 200) break;
      stored++;
    }
    assert.equal(stored, 3, 'three 300 KB values fit in 1 MB, the fourth does not');
    assert.equal(last?.status, 413);
    assert.match(((await last?.json()) as ErrorBody).error.message, /kv.*1 MB/);
    const keys = (await resultOf(await callVia(server, 'hoarder', 'kv', 'list', {}))) as unknown[];
    assert.equal(keys.length, 3);
  });

  test('docs: past its document or byte quota an insert fails with plugin_quota_exceeded', async () => {
    for (let i = 0; i < 4; i++)
      await resultOf(await callVia(server, 'hoarder', 'docs', 'insert', { collection: 'c', data: { i } }));
    const refused = await callVia(server, 'hoarder', 'docs', 'insert', { collection: 'c', data: { i: 4 } });
    assert.equal(refused.status, 413);
    const body = (await refused.json()) as ErrorBody;
    assert.equal(body.error.code, 'plugin_quota_exceeded');
    assert.match(body.error.message, /docs.*4 documents/);
    const docs = (await resultOf(
      await callVia(server, 'hoarder', 'docs', 'query', { collection: 'c' }),
    )) as unknown[];
    assert.equal(docs.length, 4, 'the collection did not grow');
    assert.equal(
      await resultOf(await callVia(server, 'hoarder', 'docs', 'delete', { collection: 'c', query: {} })),
      4,
    );
    const big = 'y'.repeat(400 * 1024);
    let stored = 0;
    for (let i = 0; i < 4; i++) {
      const res = await callVia(server, 'hoarder', 'docs', 'insert', { collection: 'c', data: { big } });
      if (res.status !== 200) {
        assert.equal(((await res.json()) as ErrorBody).error.code, 'plugin_quota_exceeded');
        break;
      }
      stored++;
    }
    assert.equal(stored, 2, 'two 400 KB documents fit in 1 MB, the third does not');
  });

  test('a quota over the server ceiling fails the deploy; refusals are logged, a few lines a minute', async () => {
    const res = await deploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: greedy\nruntime: lua\nkv:\n  keys: 20000000\n',
        'g.lua': CALLER,
      }),
    );
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.body), /kv.keys.*may be at most 10000 .*--kv-keys/);
    const refusals = server.logLines.filter((l) => l.includes('plugin call refused'));
    assert.ok(refusals.length >= 1 && refusals.length <= 10, `${refusals.length} log lines`);
  });

  test('deleting a function removes its kv and docs data: the next function of that name starts empty', async () => {
    const files = {
      'kumo.yaml': 'name: reborn\nruntime: lua\nplugins: [kv, docs]\n',
      'r.lua': CALLER,
    };
    await mustDeploy(server, await writeFunction(files));
    await resultOf(await callVia(server, 'reborn', 'kv', 'set', { key: 'secret', value: 'old tenant' }));
    await resultOf(
      await callVia(server, 'reborn', 'docs', 'insert', { collection: 'reborn-notes', data: { n: 1 } }),
    );
    const del = await api(server, '/functions/reborn', { method: 'DELETE' });
    assert.equal(del.status, 200);
    await mustDeploy(server, await writeFunction(files));
    const kv = (await (await callVia(server, 'reborn', 'kv', 'get', { key: 'secret' })).json()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(kv, {}, 'kv of the deleted function is gone (nil result)');
    const docs = await resultOf(
      await callVia(server, 'reborn', 'docs', 'query', { collection: 'reborn-notes' }),
    );
    assert.equal(Object.keys(docs ?? {}).length, 0, `its documents are gone too: ${JSON.stringify(docs)}`);
  });
});

describe('docs queries over many documents', () => {
  let server: TestServer;
  const DOCS = 40_000;
  before(async () => {
    server = await startTestServer(['--docs-documents', '50000']);
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml':
          'name: scanner\nruntime: lua\nplugins: [docs]\ninstances:\n  min: 4\n  max: 4\ndocs:\n  documents: 50000\n',
        's.lua': CALLER,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: bystander\n',
        'index.js': "export default { fetch: () => new Response('fine') };\n",
      }),
    );
    for (let start = 0; start < DOCS; start += 1000) {
      const documents = Array.from({ length: 1000 }, (_, i) => ({
        n: start + i,
        tag: `t${(start + i) % 97}`,
      }));
      const inserted = await resultOf(
        await callVia(server, 'scanner', 'docs', 'insertMany', { collection: 'big', documents }),
      );
      assert.equal((inserted as unknown[]).length, 1000);
    }
  });
  after(() => server.dispose());

  test('4 looping queries over 40k documents keep the event loop and a neighbour responsive', async () => {
    const query = { collection: 'big', query: { n: { $gte: DOCS - 3 } } };
    const found = (await resultOf(await callVia(server, 'scanner', 'docs', 'query', query))) as unknown[];
    assert.equal(found.length, 3);

    // The same measurement with nobody scanning: what this shared machine gives anyway.
    const quiet = await bystanderFor(server, 2000);
    console.log(
      `without scans: event-loop delay max ${quiet.maxDelay.toFixed(1)} ms; bystander p50 ${quiet.p50.toFixed(1)} ms over ${quiet.count} requests`,
    );
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      let n = 0;
      while (!stop) {
        const res = await callVia(server, 'scanner', 'docs', 'query', query);
        await res.arrayBuffer();
        n++;
      }
      return n;
    });
    const latencies: number[] = [];
    histogram.enable();
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const t0 = performance.now();
      const res = await invoke(server, 'bystander');
      assert.equal(await res.text(), 'fine');
      latencies.push(performance.now() - t0);
    }
    histogram.disable();
    stop = true;
    const queries = (await Promise.all(loops)).reduce((a, b) => a + b, 0);
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)] ?? Infinity;
    const maxDelay = histogram.max / 1e6;
    console.log(
      `docs scans: ${queries} queries in 4 s; event-loop delay max ${maxDelay.toFixed(1)} ms, p50 ${(histogram.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms; bystander p50 ${p50.toFixed(1)} ms over ${latencies.length} requests`,
    );
    assert.ok(queries >= 4, 'the scans ran');
    // On the scan-on-the-event-loop code one query blocked 250-270 ms here (delay p99 ~250 ms,
    // bystander p50 ~185 ms): the loop was nearly always busy scanning. The bounds leave room for
    // this shared 2-core machine's own noise (a quiet run sees single delays of 10-70 ms), never
    // for a scan.
    const p50Delay = histogram.percentile(50) / 1e6;
    const p99 = histogram.percentile(99) / 1e6;
    assert.ok(p50Delay < 20, `the event loop's median delay was ${p50Delay.toFixed(1)} ms`);
    assert.ok(p99 < 100, `the event loop's p99 delay was ${p99.toFixed(1)} ms`);
    assert.ok(p50 < 40, `the bystander's median latency was ${p50.toFixed(1)} ms`);
  });
});

/** Sequential requests to the bystander for `ms`: their median latency and the event loop's worst delay. */
async function bystanderFor(server: TestServer, ms: number) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const latencies: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const t0 = performance.now();
    await (await invoke(server, 'bystander')).text();
    latencies.push(performance.now() - t0);
  }
  histogram.disable();
  latencies.sort((a, b) => a - b);
  return {
    p50: latencies[Math.floor(latencies.length / 2)] ?? Infinity,
    maxDelay: histogram.max / 1e6,
    count: latencies.length,
  };
}
