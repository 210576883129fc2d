import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickHandler } from './detect.ts';
import type { PickResult } from './detect.ts';

// Handler parameters are declared for their count, which is what detection looks at.
const fetchObject = { fetch: (_request: unknown) => null };
const twoParams = (_req: unknown, _res: unknown) => undefined;
const oneParam = (_request: unknown) => undefined;
const handler = (_event: unknown, _context: unknown) => undefined;
const lambda = (_input: unknown, _environment: unknown) => undefined;

/** The style picked, or the failure message. */
function styleOf(result: PickResult): string {
  return result.ok ? result.handler.style : `error: ${result.message}`;
}

test('auto: export default { fetch } is fetch style, called with the object as this', () => {
  const result = pickHandler({ default: fetchObject }, 'auto', null);
  assert.equal(styleOf(result), 'fetch');
  assert.ok(result.ok);
  assert.equal(result.handler.thisArg, fetchObject);
});

test('auto: named fetch, handler and lambda exports pick fetch, lambda and plain', () => {
  assert.equal(styleOf(pickHandler({ fetch: oneParam }, 'auto', null)), 'fetch');
  assert.equal(styleOf(pickHandler({ handler }, 'auto', null)), 'lambda');
  assert.equal(styleOf(pickHandler({ lambda }, 'auto', null)), 'plain');
});

test('auto: a default function is node style with two or more parameters, fetch style with fewer', () => {
  assert.equal(styleOf(pickHandler({ default: twoParams }, 'auto', null)), 'node');
  assert.equal(styleOf(pickHandler({ default: oneParam }, 'auto', null)), 'fetch');
  assert.equal(styleOf(pickHandler({ default: () => null }, 'auto', null)), 'fetch');
});

test('auto: CommonJS module.exports = { handler } is found through the default export', () => {
  const exportsObject = { handler };
  const result = pickHandler({ default: exportsObject, 'module.exports': exportsObject }, 'auto', null);
  assert.equal(styleOf(result), 'lambda');
  assert.ok(result.ok);
  assert.equal(result.handler.thisArg, exportsObject);
});

test('an explicit style wins over detection', () => {
  assert.equal(styleOf(pickHandler({ default: oneParam }, 'node', null)), 'node');
  assert.equal(styleOf(pickHandler({ default: twoParams }, 'lambda', null)), 'lambda');
  assert.equal(
    styleOf(pickHandler({ handler }, 'plain', null)),
    'error: style plain needs "lambda" or "main" or a default export to be a function (exports found: handler)',
  );
});

test('an export named by the manifest is used, AWS style unless its name or the manifest says otherwise', () => {
  assert.equal(styleOf(pickHandler({ main: twoParams, default: oneParam }, 'auto', 'main')), 'lambda');
  assert.equal(styleOf(pickHandler({ lambda }, 'auto', 'lambda')), 'plain');
  assert.equal(styleOf(pickHandler({ api: fetchObject }, 'auto', 'api')), 'fetch');
  assert.equal(styleOf(pickHandler({ main: twoParams }, 'node', 'main')), 'node');
});

test('no recognised export is an error listing the exports found', () => {
  const result = pickHandler({ helper: 1, other: 'x' }, 'auto', null);
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.match(result.message, /no recognised handler/);
  assert.match(result.message, /exports found: helper, other/);
  assert.match(styleOf(pickHandler({ main: 1 }, 'auto', 'missing')), /export "missing".*exports found: main/);
  assert.match(styleOf(pickHandler({}, 'auto', null)), /exports found: none/);
});
