import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiRouteMatcher, assertApiRoute, type ApiRouteRecord } from './api-route.ts';
import { KumoError } from './errors.ts';

const rec = (method: string, path: string, fn = path): ApiRouteRecord => ({
  method,
  path,
  function: fn,
  createdAt: 0,
});

test('the most specific route wins: literal over {param} over {proxy+}, a method over ANY', () => {
  const m = new ApiRouteMatcher([
    rec('ANY', '/{proxy+}', 'catch-all'),
    rec('GET', '/users/{id}', 'user'),
    rec('GET', '/users/me', 'me'),
    rec('ANY', '/users/{id}', 'any-user'),
    rec('GET', '/files/{path+}', 'files'),
    rec('GET', '/', 'root'),
  ]);
  assert.equal(m.match('GET', '/users/me')?.record.function, 'me');
  assert.deepEqual(m.match('GET', '/users/42'), {
    record: rec('GET', '/users/{id}', 'user'),
    params: { id: '42' },
  });
  assert.equal(m.match('POST', '/users/42')?.record.function, 'any-user');
  assert.deepEqual(m.match('get', '/files/a/b.txt')?.params, { path: 'a/b.txt' });
  assert.equal(m.match('GET', '/')?.record.function, 'root');
  assert.equal(m.match('DELETE', '/other/thing')?.record.function, 'catch-all');
  assert.equal(m.match('GET', '/users//x')?.record.function, 'catch-all');
  assert.equal(new ApiRouteMatcher([rec('GET', '/a')]).match('GET', '/a/b'), undefined);
  assert.equal(new ApiRouteMatcher([rec('GET', '/a/{x}')]).match('GET', '/a/'), undefined);
});

test('a route must be a known method and an API Gateway path', () => {
  assert.deepEqual(assertApiRoute({ method: 'get', path: '/a/{b}/{c+}' }), {
    method: 'GET',
    path: '/a/{b}/{c+}',
  });
  for (const [method, path, why] of [
    ['FETCH', '/a', /method must be one of/],
    ['GET', 'a', /must start with "\/"/],
    ['GET', '/{a+}/b', /must be the last segment/],
    ['GET', '/a/{b', /segment/],
    ['GET', '/a//b', /segment/],
    ['GET', `/${'a'.repeat(600)}`, /at most 512/],
  ] as const) {
    assert.throws(
      () => assertApiRoute({ method, path }),
      (err: unknown) => err instanceof KumoError && err.code === 'invalid_route' && why.test(err.message),
    );
  }
});
