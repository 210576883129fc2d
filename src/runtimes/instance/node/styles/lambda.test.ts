import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BINARY, withInstance } from '../../../node/test-support.ts';

const LAMBDA_FUNCTION = `
export const handler = async (event, context) => {
  switch (event.rawPath) {
    case '/event':
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          event,
          context: {
            awsRequestId: context.awsRequestId,
            invocationId: context.invocationId,
            functionName: context.functionName,
            functionVersion: context.functionVersion,
            memoryLimitInMB: context.memoryLimitInMB,
            remaining: context.getRemainingTimeInMillis(),
          },
        }),
      };
    case '/echo':
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: event.isBase64Encoded ? event.body : Buffer.from(event.body ?? '').toString('base64'),
        isBase64Encoded: true,
      };
    case '/full':
      return {
        statusCode: 201,
        headers: { 'x-single': 'one' },
        multiValueHeaders: { 'x-multi': ['a', 'b'] },
        cookies: ['c1=1; Path=/', 'c2=2'],
        body: 'created',
      };
    case '/value': return { plain: 'object' };
    case '/string': return 'as is';
    case '/json-string': return JSON.stringify({ a: 1 });
    case '/throw': throw new Error('boom in lambda');
    default: return { statusCode: 404, body: 'nope' };
  }
};
`;

test('lambda style: the event is API Gateway v2.0 shaped, with v1 httpMethod and path', async () => {
  await withInstance({ 'index.mjs': LAMBDA_FUNCTION }, { memory: 128 }, async (instance) => {
    const deadline = Date.now() + 20_000;
    const res = await instance.request({
      method: 'POST',
      path: '/event?a=1&b=x&a=2',
      body: '{"hello":"world"}',
      headers: {
        'content-type': 'application/json',
        cookie: 'session=abc; theme=dark',
        'user-agent': 'kumo-test',
        'x-forwarded-for': '203.0.113.9, 10.0.0.1',
        'x-kumo-invocation-id': 'inv-lambda',
        'x-kumo-deadline': String(deadline),
      },
    });
    assert.equal(res.status, 200);
    const { event, context } = res.json() as {
      event: Record<string, unknown>;
      context: Record<string, unknown>;
    };
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/event');
    assert.equal(event.rawQueryString, 'a=1&b=x&a=2');
    assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x' });
    assert.deepEqual(event.cookies, ['session=abc', 'theme=dark']);
    const headers = event.headers as Record<string, string>;
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers.cookie, undefined, 'cookies move out of the headers');
    assert.equal(headers['x-kumo-invocation-id'], 'inv-lambda');
    assert.equal(event.body, '{"hello":"world"}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.httpMethod, 'POST');
    assert.equal(event.path, '/event');
    const rc = event.requestContext as {
      http: Record<string, unknown>;
      requestId: string;
      domainName: string;
    };
    assert.deepEqual(rc.http, {
      method: 'POST',
      path: '/event',
      protocol: 'HTTP/1.1',
      sourceIp: '203.0.113.9',
      userAgent: 'kumo-test',
    });
    assert.equal(rc.requestId, 'inv-lambda');
    assert.equal(rc.domainName, 'test-fn.localhost');
    assert.equal(context.awsRequestId, 'inv-lambda');
    assert.equal(context.invocationId, 'inv-lambda');
    assert.equal(context.functionName, 'test-fn');
    assert.equal(context.functionVersion, '1');
    assert.equal(context.memoryLimitInMB, '128');
    const remaining = context.remaining as number;
    assert.ok(remaining > 0 && remaining <= 20_000, `remaining time ${remaining} comes from the deadline`);
  });
});

test('lambda style: a binary body arrives base64-encoded and a base64 result goes out byte-exact', async () => {
  await withInstance({ 'index.mjs': LAMBDA_FUNCTION }, {}, async (instance) => {
    const binary = await instance.request({ method: 'POST', path: '/echo', body: BINARY });
    assert.equal(binary.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(binary.body, BINARY);
    const text = await instance.request({ method: 'POST', path: '/echo', body: 'héllo' });
    assert.equal(text.text, 'héllo');
  });
});

test('lambda style: results map to status, headers, cookies and body; other values are 200', async () => {
  await withInstance({ 'index.mjs': LAMBDA_FUNCTION }, {}, async (instance) => {
    const full = await instance.request({ path: '/full' });
    assert.equal(full.status, 201);
    assert.equal(full.headers['x-single'], 'one');
    assert.equal(full.headers['x-multi'], 'a, b');
    assert.deepEqual(full.headers['set-cookie'], ['c1=1; Path=/', 'c2=2']);
    assert.equal(full.text, 'created');

    const value = await instance.request({ path: '/value' });
    assert.equal(value.status, 200);
    assert.match(String(value.headers['content-type']), /^application\/json/);
    assert.deepEqual(value.json(), { plain: 'object' });

    const str = await instance.request({ path: '/string' });
    assert.equal(str.text, 'as is');
    assert.match(String(str.headers['content-type']), /^text\/plain/);
    const jsonString = await instance.request({ path: '/json-string' });
    assert.match(String(jsonString.headers['content-type']), /^application\/json/);

    const thrown = await instance.request({ path: '/throw' });
    assert.equal(thrown.status, 500);
    assert.equal((thrown.json() as { error: { code: string } }).error.code, 'handler_error');
    assert.equal((await instance.request({ path: '/value' })).status, 200, 'still serving');
  });
});

test('lambda style: the callback form of a CommonJS handler named in the manifest', async () => {
  const files = {
    'app.js': `exports.main = function (event, context, callback) {
      if (event.rawPath === '/fail') return callback(new Error('callback failure'));
      setTimeout(() => callback(null, { statusCode: 202, body: 'via callback ' + context.functionName }), 1);
    };\n`,
  };
  await withInstance(files, { handler: 'app.main' }, async (instance) => {
    const ok = await instance.request();
    assert.equal(ok.status, 202);
    assert.equal(ok.text, 'via callback test-fn');
    assert.equal((await instance.request({ path: '/fail' })).status, 500);
  });
});
