import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTaggedLine } from '../../../../core/index.ts';
import { BINARY, withInstance } from '../../../node/test-support.ts';

const PLAIN_FUNCTION = `
export function lambda(input, environment) {
  switch (environment.path) {
    case '/upper':
      environment.code = 201;
      return input.toUpperCase();
    case '/environment':
      return {
        input,
        method: environment.method,
        query: environment.query,
        header: environment.headers['x-custom'],
        invocationId: environment.invocationId,
        greeting: environment.GREETING,
        code: environment.code,
      };
    case '/bytes': return environment.body;
    case '/nothing': environment.code = 202; return undefined;
    case '/bad-code': environment.code = 'teapot'; return 'x';
    case '/throw': throw new Error('boom in plain');
    default: environment.code = 404; return 'nope';
  }
}
`;

test('plain style: lambda(input, environment) with environment.code setting the status', async () => {
  await withInstance(
    { 'lambda.js': PLAIN_FUNCTION },
    { handler: 'lambda.js', env: { GREETING: 'hey' } },
    async (instance) => {
      const upper = await instance.request({ method: 'POST', path: '/upper', body: 'shout this' });
      assert.equal(upper.status, 201);
      assert.match(String(upper.headers['content-type']), /^text\/plain/);
      assert.equal(upper.text, 'SHOUT THIS');

      const env = await instance.request({
        method: 'PATCH',
        path: '/environment?x=1&y=two',
        body: 'in',
        headers: { 'x-custom': 'c', 'x-kumo-invocation-id': 'inv-plain' },
      });
      assert.equal(env.status, 200);
      assert.deepEqual(env.json(), {
        input: 'in',
        method: 'PATCH',
        query: { x: '1', y: 'two' },
        header: 'c',
        invocationId: 'inv-plain',
        greeting: 'hey',
        code: 200,
      });

      const nothing = await instance.request({ path: '/nothing' });
      assert.equal(nothing.status, 202);
      assert.equal(nothing.text, '');
    },
  );
});

test('plain style: bytes returned go out byte-exact; a throw or a bad code is a 500 and the instance serves on', async () => {
  await withInstance({ 'lambda.js': PLAIN_FUNCTION }, { handler: 'lambda.js' }, async (instance) => {
    const bytes = await instance.request({ method: 'POST', path: '/bytes', body: BINARY });
    assert.equal(bytes.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(bytes.body, BINARY);

    const thrown = await instance.request({ path: '/throw', headers: { 'x-kumo-invocation-id': 'inv-p' } });
    assert.equal(thrown.status, 500);
    assert.deepEqual(thrown.json(), {
      error: {
        code: 'handler_error',
        message: 'the function threw an error (invocation inv-p); see kumo logs test-fn',
      },
    });
    assert.equal(parseTaggedLine(await instance.waitForLine(/boom in plain/)).invocationId, 'inv-p');

    assert.equal((await instance.request({ path: '/bad-code' })).status, 500);
    assert.match(await instance.waitForLine(/environment\.code must be an HTTP status/), /got teapot/);
    assert.equal((await instance.request({ method: 'POST', path: '/upper', body: 'a' })).text, 'A');
  });
});
