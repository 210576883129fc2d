import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTaggedLine } from '../../../../core/index.ts';
import { BINARY, withInstance } from '../../../node/test-support.ts';

// CommonJS on purpose: `module.exports = fn` with (req, res) must be detected as node style.
const NODE_FUNCTION = `
let release = () => {};
const gate = () => new Promise((resolve) => { release = resolve; });

module.exports = async function (req, res) {
  const path = req.url.split('?')[0];
  switch (path) {
    case '/payload':
      return res.json({ payload: req.payload, bytes: req.body.length, greeting: req.env.GREETING, id: req.invocationId });
    case '/send-text': return res.send('plain text', 201);
    case '/send-object': return res.send({ sent: true });
    case '/raw':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(req.body);
      return;
    case '/on-data': {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(Buffer.concat(chunks));
      });
      return;
    }
    case '/for-await': {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      res.end(Buffer.concat(chunks));
      return;
    }
    case '/pipe': req.pipe(res); return;
    case '/stream': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      await gate();
      res.end('last');
      return;
    }
    case '/release': res.end('released'); release(); return;
    case '/later': setTimeout(() => res.end('ended later'), 5); return;
    case '/return': return { returned: true };
    case '/throw': throw new Error('boom in node');
    default: res.statusCode = 404; res.end('nope');
  }
};
`;

test('node style: req.payload, req.body, req.env, res.json and res.send', async () => {
  await withInstance({ 'index.js': NODE_FUNCTION }, { env: { GREETING: 'hello' } }, async (instance) => {
    const json = await instance.request({
      method: 'POST',
      path: '/payload',
      body: JSON.stringify({ name: 'World' }),
      headers: { 'content-type': 'application/json', 'x-kumo-invocation-id': 'inv-node' },
    });
    assert.equal(json.status, 200);
    assert.match(String(json.headers['content-type']), /^application\/json/);
    assert.deepEqual(json.json(), {
      payload: { name: 'World' },
      bytes: 16,
      greeting: 'hello',
      id: 'inv-node',
    });

    const textPayload = await instance.request({ method: 'POST', path: '/payload', body: 'not json' });
    assert.deepEqual((textPayload.json() as { payload: unknown }).payload, 'not json');
    const noContentType = await instance.request({ method: 'POST', path: '/payload', body: '{"a":1}' });
    assert.deepEqual(
      (noContentType.json() as { payload: unknown }).payload,
      { a: 1 },
      'JSON is recognised by its shape too',
    );
    const empty = (await instance.request({ path: '/payload' })).json() as Record<string, unknown>;
    assert.equal(empty.bytes, 0);
    assert.equal('payload' in empty, false, 'no payload for an empty body');

    const sent = await instance.request({ path: '/send-text' });
    assert.equal(sent.status, 201);
    assert.match(String(sent.headers['content-type']), /^text\/plain/);
    assert.equal(sent.text, 'plain text');
    assert.deepEqual((await instance.request({ path: '/send-object' })).json(), { sent: true });
  });
});

test('node style: the body reaches the handler whole however it reads it, byte-exact', async () => {
  await withInstance({ 'index.js': NODE_FUNCTION }, {}, async (instance) => {
    const big = Buffer.concat(Array.from({ length: 300 }, () => BINARY)); // 150 KB: several chunks
    for (const path of ['/raw', '/on-data', '/for-await', '/pipe']) {
      for (const body of [BINARY, big]) {
        const res = await instance.request({ method: 'POST', path, body });
        assert.equal(res.status, 200, path);
        assert.ok(res.body.equals(body), `${path} echoed ${res.body.length} of ${body.length} bytes exactly`);
      }
    }
  });
});

test(
  'node style: writes stream, late ends work, a returned value is sent, a throw is a 500',
  { timeout: 20_000 },
  async () => {
    await withInstance({ 'index.js': NODE_FUNCTION }, {}, async (instance) => {
      const chunks: string[] = [];
      const streamed = await instance.request({
        path: '/stream',
        onResponse: (stream) =>
          stream.on('data', (chunk: Buffer) => {
            chunks.push(chunk.toString());
            if (chunks.length === 1) void instance.request({ path: '/release' });
          }),
      });
      assert.equal(chunks[0], 'first;');
      assert.equal(streamed.text, 'first;last');

      assert.equal((await instance.request({ path: '/later' })).text, 'ended later');

      const returned = await instance.request({ path: '/return' });
      assert.deepEqual(returned.json(), { returned: true });

      const thrown = await instance.request({ path: '/throw', headers: { 'x-kumo-invocation-id': 'inv-n' } });
      assert.equal(thrown.status, 500);
      assert.equal((thrown.json() as { error: { code: string } }).error.code, 'handler_error');
      assert.equal(parseTaggedLine(await instance.waitForLine(/boom in node/)).invocationId, 'inv-n');
      assert.equal((await instance.request({ path: '/send-text' })).status, 201, 'still serving');
    });
  },
);
