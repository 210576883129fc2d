import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTaggedLine } from '../../../../core/index.ts';
import { BINARY, withInstance } from '../../../node/test-support.ts';

const FETCH_FUNCTION = `
let release: () => void = () => {};
const gate = () => new Promise<void>((resolve) => { release = resolve; });

interface Ctx { invocationId: string; deadline: number; waitUntil(p: Promise<unknown>): void }

export default {
  prefix: 'from this',
  async fetch(request: Request, env: Record<string, string>, ctx: Ctx): Promise<unknown> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/echo':
        return new Response(await request.arrayBuffer(), { headers: { 'content-type': request.headers.get('content-type') ?? 'x/none' } });
      case '/request':
        return { url: request.url, method: request.method, header: request.headers.get('x-custom'), text: await request.text() };
      case '/object': return { hello: 'world', n: 1 };
      case '/string': return 'just text';
      case '/nothing': return undefined;
      case '/headers':
        return new Response('created', { status: 201, headers: [['x-one', '1'], ['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2']] });
      case '/this': return (this as unknown as { prefix: string }).prefix;
      case '/env': return { env, keys: Object.keys(process.env).sort(), ctx: { id: ctx.invocationId, deadline: ctx.deadline } };
      case '/stream': {
        const wait = gate();
        const body = new ReadableStream({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode('first;'));
            await wait;
            controller.enqueue(new TextEncoder().encode('last'));
            controller.close();
          },
        });
        return new Response(body, { headers: { 'content-type': 'text/plain' } });
      }
      case '/release': release(); return 'released';
      case '/throw': throw new Error('boom in fetch');
      default: return new Response('not found', { status: 404 });
    }
  },
};
`;

test('fetch style: a real Request in, Response and plain values out, binary byte-exact, errors as 500', async () => {
  await withInstance({ 'index.ts': FETCH_FUNCTION }, { env: { GREETING: 'hi' } }, async (instance) => {
    const echo = await instance.request({
      method: 'POST',
      path: '/echo',
      body: BINARY,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(echo.status, 200);
    assert.equal(echo.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(echo.body, BINARY);

    const req = await instance.request({
      method: 'PUT',
      path: '/request?a=1&b=2',
      body: 'payload',
      headers: { 'x-custom': 'yes' },
    });
    assert.deepEqual(req.json(), {
      url: 'http://test-fn.localhost/request?a=1&b=2',
      method: 'PUT',
      header: 'yes',
      text: 'payload',
    });

    const obj = await instance.request({ path: '/object' });
    assert.equal(obj.status, 200);
    assert.match(String(obj.headers['content-type']), /^application\/json/);
    assert.deepEqual(obj.json(), { hello: 'world', n: 1 });

    const text = await instance.request({ path: '/string' });
    assert.match(String(text.headers['content-type']), /^text\/plain/);
    assert.equal(text.text, 'just text');

    const nothing = await instance.request({ path: '/nothing' });
    assert.equal(nothing.status, 204);
    assert.equal(nothing.text, '');

    const headers = await instance.request({ path: '/headers' });
    assert.equal(headers.status, 201);
    assert.equal(headers.headers['x-one'], '1');
    assert.deepEqual(headers.headers['set-cookie'], ['a=1; Path=/', 'b=2']);

    assert.equal((await instance.request({ path: '/this' })).text, 'from this');

    const thrown = await instance.request({
      path: '/throw',
      headers: { 'x-kumo-invocation-id': 'inv-throw' },
    });
    assert.equal(thrown.status, 500);
    assert.deepEqual(thrown.json(), {
      error: {
        code: 'handler_error',
        message: 'the function threw an error (invocation inv-throw); see kumo logs test-fn',
      },
    });
    assert.doesNotMatch(thrown.text, /boom|at /, 'no stack or message in the response');
    const logged = parseTaggedLine(await instance.waitForLine(/boom in fetch/));
    assert.equal(logged.invocationId, 'inv-throw', 'the error is logged, tagged');
    await instance.waitForLine(/index\.ts:\d+:\d+/); // the stack points into the TypeScript source

    assert.equal((await instance.request({ path: '/object' })).status, 200, 'still serving after a throw');
  });
});

test('fetch style: env is the function variables only, and the server environment does not leak', async () => {
  process.env.KUMO_TEST_SECRET = 'server-secret';
  try {
    await withInstance({ 'index.ts': FETCH_FUNCTION }, { env: { GREETING: 'hi' } }, async (instance) => {
      const deadline = Date.now() + 12_345;
      const res = await instance.request({
        path: '/env',
        headers: { 'x-kumo-invocation-id': 'inv-env', 'x-kumo-deadline': String(deadline) },
      });
      const body = res.json() as { env: unknown; keys: string[]; ctx: unknown };
      assert.deepEqual(body.env, { GREETING: 'hi' });
      assert.deepEqual(body.ctx, { id: 'inv-env', deadline });
      assert.deepEqual(
        body.keys,
        ['GREETING', 'HOME', 'LAMBDA_TASK_ROOT', 'NODE_ENV', 'PATH'],
        'no KUMO_* or server variable',
      );
    });
  } finally {
    delete process.env.KUMO_TEST_SECRET;
  }
});

test('fetch style: a streamed body reaches the client chunk by chunk', { timeout: 20_000 }, async () => {
  await withInstance({ 'index.ts': FETCH_FUNCTION }, {}, async (instance) => {
    const chunks: string[] = [];
    // The second chunk is only produced after /release, which is only sent once the first chunk
    // arrived: without streaming this request never completes and the test times out.
    const res = await instance.request({
      path: '/stream',
      onResponse: (stream) => {
        stream.on('data', (chunk: Buffer) => {
          chunks.push(chunk.toString());
          if (chunks.length === 1) void instance.request({ path: '/release' });
        });
      },
    });
    assert.equal(res.status, 200);
    assert.equal(chunks[0], 'first;');
    assert.equal(res.text, 'first;last');
  });
});

test('fetch style: a default function with one parameter gets the Request', async () => {
  const files = {
    'index.js':
      'export default (request) => new Response(`${request.method} ${new URL(request.url).pathname}`);\n',
  };
  await withInstance(files, {}, async (instance) => {
    assert.equal((await instance.request({ method: 'DELETE', path: '/item/7' })).text, 'DELETE /item/7');
  });
});
