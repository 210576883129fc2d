import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Requirement } from '../core/index.ts';
import { RouteTable } from './route-table.ts';
import type { Route } from './route.ts';

const noop = () => undefined;
const r = (method: string, path: string, scope: Requirement, extra: Partial<Route> = {}): Route =>
  ({ method, path, scope, summary: `${method} ${path}`, tag: 't', handler: noop, ...extra }) as Route;

const table = new RouteTable([
  r('*', '/**', 'function', { host: true }),
  r('GET', '/api/v1/functions', 'read'),
  r('POST', '/api/v1/functions', 'deploy'),
  r('GET', '/api/v1/functions/:name', 'read'),
  r('DELETE', '/api/v1/functions/:name', 'deploy'),
  r('PUT', '/api/v1/functions/:name/secrets/:secret', 'deploy'),
  r('GET', '/api/v1/keys', 'admin'),
  r('*', '/fn/:name/**', 'function'),
  r('GET', '/invocations/:id', 'result'),
  r('GET', '/healthz', 'none'),
]);

/** The requirement and parameters `method path` is matched to, or the 404/405 answer. */
const need = (method: string, path: string, host?: string) => {
  const found = table.match(method, path, host);
  return found.kind === 'route' ? [found.route.scope, found.params] : [found.kind];
};

test('a request gets the declaration of its method and path, with its parameters decoded', () => {
  assert.deepEqual(need('GET', '/api/v1/functions'), ['read', {}]);
  assert.deepEqual(need('POST', '/api/v1/functions'), ['deploy', {}]);
  assert.deepEqual(need('DELETE', '/api/v1/functions/greet/'), ['deploy', { name: 'greet' }]);
  assert.deepEqual(need('PUT', '/api/v1/functions/greet/secrets/API%5FKEY'), [
    'deploy',
    { name: 'greet', secret: 'API_KEY' },
  ]);
  assert.deepEqual(need('GET', '/invocations/abc'), ['result', { id: 'abc' }]);
  assert.deepEqual(need('GET', '/healthz'), ['none', {}]);
  // A malformed escape is kept as sent rather than failing the request.
  assert.deepEqual(need('GET', '/api/v1/functions/%E0%A4%A'), ['read', { name: '%E0%A4%A' }]);
});

test('HEAD is served by GET routes; a known path with another method is 405 with the methods allowed', () => {
  assert.deepEqual(need('HEAD', '/api/v1/keys'), ['admin', {}]);
  assert.deepEqual(table.match('PATCH', '/api/v1/functions/greet', undefined), {
    kind: 'method',
    allow: ['GET', 'DELETE'],
  });
});

test('undeclared paths and path tricks match nothing', () => {
  for (const path of [
    '/api/v1/something-new',
    '/api/v1/functions/../keys',
    '//api/v1/functions',
    '/fn/',
    '/admin',
  ])
    assert.deepEqual(need('GET', path), ['none'], path);
});

test('`**` takes any rest of the path, or none', () => {
  assert.deepEqual(need('POST', '/fn/greet'), ['function', { name: 'greet' }]);
  assert.deepEqual(need('POST', '/fn/greet/x/y'), ['function', { name: 'greet' }]);
  assert.deepEqual(need('POST', '/fnx/greet'), ['none']);
});

test('a Host naming a function wins over every path', () => {
  assert.deepEqual(need('GET', '/api/v1/keys', 'greet'), ['function', { name: 'greet' }]);
  assert.deepEqual(need('DELETE', '/', 'greet'), ['function', { name: 'greet' }]);
});

test('the table refuses a route declared twice, and an alias whose requirement is not its target’s', () => {
  assert.throws(() => new RouteTable([r('GET', '/a', 'read'), r('GET', '/a', 'admin')]), /declared twice/);
  const alias = (scope: Requirement, of: string): Route =>
    ({
      method: 'GET',
      path: '/list',
      scope,
      summary: 'alias',
      tag: 't',
      alias: { of, rewrite: () => '/a' },
    }) as Route;
  assert.throws(() => new RouteTable([r('GET', '/a', 'read'), alias('none', '/a')]), /needs read/);
  assert.throws(() => new RouteTable([r('GET', '/a', 'read'), alias('read', '/b')]), /names no route/);
  assert.doesNotThrow(() => new RouteTable([r('GET', '/a', 'read'), alias('read', '/a')]));
});
