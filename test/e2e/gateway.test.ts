import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { invoke, mustDeploy, raw, startTestServer, writeFunction, type TestServer } from './harness.ts';

describe('gateway', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    const echo = await writeFunction({
      'kumo.yaml': 'name: echo\nconcurrency: 4\n',
      'index.js': `export default { async fetch(req) {
        const url = new URL(req.url);
        const body = new Uint8Array(await req.arrayBuffer());
        const headers = {};
        for (const [k, v] of req.headers) headers[k] = v;
        return new Response(body, { status: 200, headers: {
          'x-echo-method': req.method, 'x-echo-path': url.pathname, 'x-echo-query': url.search,
          'x-echo-headers': JSON.stringify(headers), 'content-type': 'application/octet-stream', 'x-custom': 'yes' } });
      } };\n`,
    });
    await mustDeploy(server, echo);
  });
  after(() => server.dispose());

  test('routes by Host NAME.localhost and by /fn/NAME, passing path and query through', async () => {
    const byHost = await raw(server.url, {
      path: '/a/b?x=1&y=%20z',
      headers: { host: `echo.localhost:${server.port}` },
    });
    assert.equal(byHost.status, 200);
    assert.equal(byHost.headers['x-echo-path'], '/a/b');
    assert.equal(byHost.headers['x-echo-query'], '?x=1&y=%20z');
    const byPath = await raw(server.url, { path: '/fn/echo/a/b?x=1' });
    assert.equal(byPath.headers['x-echo-path'], '/a/b');
    assert.equal(byPath.headers['x-echo-query'], '?x=1');
    const root = await raw(server.url, { path: '/fn/echo' });
    assert.equal(root.headers['x-echo-path'], '/');
    assert.match(String(root.headers['x-kumo-invocation-id']), /^[0-9a-f-]{36}$/);
    assert.equal(root.headers['x-kumo-version'], '1');
  });

  test('binary bodies and every method reach the function byte-exact', async () => {
    const body = randomBytes(256 * 1024);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await raw(server.url, {
        method,
        path: '/fn/echo/bin',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 200, method);
      assert.equal(res.headers['x-echo-method'], method);
      assert.ok(res.body.equals(body), `${method} body round-trips`);
    }
  });

  test('headers pass through, hop-by-hop ones and forged x-kumo-* do not', async () => {
    const res = await raw(server.url, {
      path: '/fn/echo/',
      headers: {
        'x-custom-in': 'abc',
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': 'secret',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-kumo-invocation-id': 'forged',
        te: 'trailers',
      },
    });
    const seen = JSON.parse(String(res.headers['x-echo-headers'])) as Record<string, string>;
    assert.equal(seen['x-custom-in'], 'abc');
    for (const h of ['x-drop-me', 'keep-alive', 'proxy-authorization', 'te'])
      assert.equal(seen[h], undefined, h);
    assert.notEqual(seen['x-kumo-invocation-id'], 'forged');
    assert.match(seen['x-kumo-deadline'] ?? '', /^\d{13}$/);
    assert.equal(res.headers['x-custom'], 'yes');
    assert.equal(res.headers['x-kumo-invocation-id'], seen['x-kumo-invocation-id']);
  });

  test('an unknown function is a JSON 404 and an unknown path too', async () => {
    const fn = await invoke(server, 'nope');
    assert.equal(fn.status, 404);
    assert.equal(((await fn.json()) as { error: { code: string } }).error.code, 'function_not_found');
    const host = await raw(server.url, { path: '/', headers: { host: 'nope.localhost' } });
    assert.equal(host.status, 404);
    // Paths kumo has no rule for need an admin key (default deny); with one, the answer is 404.
    const other = await fetch(`${server.url}/elsewhere`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'route_not_found');
  });

  test('a body over the limit gets 413 and the server keeps serving', async () => {
    const small = await startTestServer(['--body-limit', '1']);
    try {
      const dir = await writeFunction({
        'kumo.yaml': 'name: tiny\n',
        'index.js': 'export default () => new Response("ok");\n',
      });
      await mustDeploy(small, dir);
      const res = await invoke(small, 'tiny', '/', { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1) });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'payload_too_large');
      assert.equal(await (await invoke(small, 'tiny')).text(), 'ok');
    } finally {
      await small.dispose();
    }
  });

  test('a response over the limit is refused with 502 response_too_large, or cut when streaming', async () => {
    const small = await startTestServer(['--response-limit', '1']);
    try {
      const dir = await writeFunction({
        'kumo.yaml': 'name: big\n',
        'index.js': `export default { fetch(req) {
          const big = new Uint8Array(2 * 1024 * 1024);
          if (new URL(req.url).pathname === '/stream') {
            return new Response(new ReadableStream({ start(c) { c.enqueue(big); c.close(); } }));
          }
          if (new URL(req.url).pathname === '/small') return new Response('small');
          return new Response(big, { headers: { 'content-length': String(big.length) } });
        } };\n`,
      });
      await mustDeploy(small, dir);
      const declared = await invoke(small, 'big');
      assert.equal(declared.status, 502);
      assert.equal(((await declared.json()) as { error: { code: string } }).error.code, 'response_too_large');
      await assert.rejects(async () => {
        const streamed = await invoke(small, 'big', '/stream');
        await streamed.arrayBuffer();
      });
      assert.equal(
        await (await invoke(small, 'big', '/small')).text(),
        'small',
        'the instance keeps serving',
      );
    } finally {
      await small.dispose();
    }
  });

  test('a streamed response delivers its first chunk at once', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: stream\n',
      'index.js': `export default { fetch() {
        let i = 0;
        const stream = new ReadableStream({ async pull(c) {
          if (i === 3) return c.close();
          if (i > 0) await new Promise((r) => setTimeout(r, 1000));
          c.enqueue(new TextEncoder().encode('chunk' + i++ + '\\n'));
        } });
        return new Response(stream, { headers: { 'content-type': 'text/plain' } });
      } };\n`,
    });
    await mustDeploy(server, dir);
    const t0 = Date.now();
    const res = await invoke(server, 'stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const firstAt = Date.now() - t0;
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    const total = Date.now() - t0;
    assert.equal(new TextDecoder().decode(first.value), 'chunk0\n');
    assert.equal(rest, 'chunk1\nchunk2\n');
    assert.ok(total >= 1900, `the whole stream took ${total}ms`);
    assert.ok(firstAt < total - 1500, `first chunk after ${firstAt}ms of ${total}ms`);
  });

  test('a function past its timeout gets 504 deadline_exceeded and the instance is replaced', async () => {
    const dir = await writeFunction({
      // 3 s: the replacement's cold start counts against the next call's deadline (~2 s seen under load)
      'kumo.yaml': 'name: slow\ntimeout: 3s\n',
      'index.js': `let calls = 0;
        const instance = crypto.randomUUID();
        export default { async fetch(req) {
          calls++;
          if (new URL(req.url).pathname === '/hang') await new Promise(() => {});
          return Response.json({ calls, instance });
        } };\n`,
    });
    await mustDeploy(server, dir);
    const before = (await (await invoke(server, 'slow')).json()) as { instance: string };
    const t0 = Date.now();
    const res = await invoke(server, 'slow', '/hang');
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'deadline_exceeded');
    assert.ok(Date.now() - t0 < 5000);
    const afterwards = (await (await invoke(server, 'slow')).json()) as { instance: string; calls: number };
    assert.notEqual(afterwards.instance, before.instance, 'a fresh instance serves after the timeout');
    assert.equal(afterwards.calls, 1);
  });

  test('a crashing instance gives 502 instance_crashed and the next request gets a fresh one', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: crashy\n',
      'index.js': `const instance = crypto.randomUUID();
        export default { fetch(req) {
          if (new URL(req.url).pathname === '/die') process.exit(3);
          return Response.json({ instance });
        } };\n`,
    });
    await mustDeploy(server, dir);
    const first = (await (await invoke(server, 'crashy')).json()) as { instance: string };
    const res = await invoke(server, 'crashy', '/die');
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'instance_crashed');
    const next = await invoke(server, 'crashy');
    assert.equal(next.status, 200);
    assert.notEqual(((await next.json()) as { instance: string }).instance, first.instance);
  });

  test('a response whose first chunk is slow still sends its status and headers at once', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: late\n',
      'index.js': `export default () => new Response(new ReadableStream({ async start(c) {
          await new Promise((r) => setTimeout(r, 1500));
          c.enqueue(new TextEncoder().encode('late'));
          c.close();
        } }), { status: 201, headers: { 'x-early': 'yes' } });\n`,
    });
    await mustDeploy(server, dir);
    const t0 = Date.now();
    const res = await invoke(server, 'late');
    const headersAt = Date.now() - t0;
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-early'), 'yes');
    assert.equal(await res.text(), 'late');
    const total = Date.now() - t0;
    assert.ok(headersAt < total - 1000, `headers after ${headersAt}ms of ${total}ms`);
  });

  test('clients that hang up at any moment never leave an instance slot taken', async () => {
    // One instance, one request at a time, a minute of timeout: a slot kept by a request whose
    // client left would make the next request wait that minute.
    const dir = await writeFunction({
      'kumo.yaml': 'name: solo\nconcurrency: 1\ninstances:\n  max: 1\ntimeout: 60s\nqueue: 400\n',
      'index.js':
        'const body = "x".repeat(256 * 1024);\nexport default { fetch() { return new Response(body); } };\n',
    });
    await mustDeploy(server, dir);
    const port = new URL(server.url).port;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        return new Promise<void>((resolve) => {
          const socket = net.connect(Number(port), '127.0.0.1', () => {
            socket.write(`GET /fn/solo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
            // before, during and after the response: hang up after 0 to 9 ms, or after the first bytes
            if (i % 3 === 0) socket.once('data', () => socket.destroy());
            else setTimeout(() => socket.destroy(), i % 10);
          });
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        });
      }),
    );
    const res = await invoke(server, 'solo', '/', { signal: AbortSignal.timeout(15_000) });
    assert.equal(res.status, 200);
    assert.equal((await res.text()).length, 256 * 1024);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('requests beyond instances × concurrency + queue get 429 over_capacity', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: busy\nconcurrency: 1\ninstances:\n  max: 1\nqueue: 1\n',
      'index.js':
        'export default { async fetch() { await new Promise((r) => setTimeout(r, 600)); return new Response("done"); } };\n',
    });
    await mustDeploy(server, dir);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => invoke(server, 'busy').then(async (r) => [r.status, await r.text()] as const)),
    );
    const statuses = results.map(([s]) => s).sort();
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    const rejected = results.find(([s]) => s === 429);
    assert.equal(
      (JSON.parse(rejected?.[1] ?? '{}') as { error: { code: string } }).error.code,
      'over_capacity',
    );
  });

  test('manifest env reaches the function, the server environment does not', async () => {
    process.env.KUMO_TEST_SERVER_SECRET = 'must-not-leak';
    const dir = await writeFunction({
      'kumo.yaml': 'name: envy\nenv:\n  GREETING: hola\n',
      'index.js':
        'export default { fetch(req, env) { return Response.json({ env, all: process.env }); } };\n',
    });
    await mustDeploy(server, dir);
    const body = (await (await invoke(server, 'envy')).json()) as {
      env: Record<string, string>;
      all: Record<string, string>;
    };
    assert.deepEqual(body.env, { GREETING: 'hola' });
    assert.equal(body.all.GREETING, 'hola');
    assert.equal(body.all.KUMO_TEST_SERVER_SECRET, undefined);
    assert.ok(!JSON.stringify(body.all).includes('must-not-leak'));
    delete process.env.KUMO_TEST_SERVER_SECRET;
  });
});
