import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { KumoError } from '../core/index.ts';
import { checkQuery, decodeJson, queryOf } from './route.ts';

const decl = {
  schema: z.strictObject({ name: z.string().optional(), scopes: z.array(z.enum(['read', 'deploy'])).min(1) }),
  what: 'key',
  example: '{"scopes": ["read"]}',
};

/** The error a call throws, as code and message. */
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KumoError);
    return [err.code, err.message];
  }
  assert.fail('expected a refusal');
};

test('a JSON body is validated with its schema; a refusal names the field', () => {
  assert.deepEqual(decodeJson(decl, Buffer.from('{"scopes": ["read"]}')), { scopes: ['read'] });
  const [code, message] = refusal(() => decodeJson(decl, Buffer.from('{"scopes": ["root"]}')));
  assert.equal(code, 'bad_request');
  assert.match(message ?? '', /^key: "scopes\.0" /);
  assert.match(refusal(() => decodeJson(decl, Buffer.from('{"scopes": []}')))[1] ?? '', /"scopes"/);
  assert.match(refusal(() => decodeJson(decl, Buffer.from('{"scopes": ["read"], "x": 1}')))[1] ?? '', /"x"/);
});

test('an empty body reads as {}, a body that is not JSON gets the example, a route may name its own code', () => {
  assert.deepEqual(decodeJson({ ...decl, schema: z.object({ to: z.int().nullish() }) }, Buffer.alloc(0)), {});
  assert.deepEqual(
    refusal(() => decodeJson(decl, Buffer.from('{'))),
    ['bad_request', 'key: the body must be JSON like {"scopes": ["read"]}'],
  );
  assert.equal(
    refusal(() => decodeJson({ ...decl, invalid: 'invalid_schedule' }, Buffer.from('{}')))[0],
    'invalid_schedule',
  );
});

test('query parameters are checked against the declared schema', () => {
  const query = queryOf({ since: 'a window start' });
  assert.doesNotThrow(() => checkQuery(query, new URLSearchParams('since=1h&other=kept')));
  const strict = z.object({ limit: z.string().regex(/^\d+$/, { error: 'must be a whole number' }) });
  assert.deepEqual(
    refusal(() => checkQuery(strict, new URLSearchParams('limit=x'))),
    ['bad_request', 'query parameter "limit" must be a whole number'],
  );
});
