import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  curlCommand,
  filterAndSort,
  formatAgo,
  formatCount,
  formatMs,
  formatPercent,
  parseHeaderLines,
  shellQuote,
  sparkPoints,
} from './client/format.ts';

test('durations, shares and counts read as people write them', () => {
  assert.equal(formatMs(null), '–');
  assert.equal(formatMs(0), '0 ms');
  assert.equal(formatMs(0.42), '0.4 ms');
  assert.equal(formatMs(12.4), '12 ms');
  assert.equal(formatMs(1250), '1.25 s');
  assert.equal(formatMs(42_000), '42.0 s');
  assert.equal(formatMs(180_000), '3.0 min');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(0.004), '0.4%');
  assert.equal(formatPercent(0.25), '25%');
  assert.equal(formatCount(950), '950');
  assert.equal(formatCount(1234), '1.2k');
  assert.equal(formatCount(34_567), '35k');
  assert.equal(formatCount(1_500_000), '1.5M');
  assert.equal(formatAgo(1000, 1500), 'just now');
  assert.equal(formatAgo(0, 180_000), '3 min ago');
  assert.equal(formatAgo(7_200_000, 0), 'in 2 h');
});

test('a sparkline fits its box, the highest value at the top', () => {
  assert.equal(sparkPoints([], 96, 20), '');
  assert.equal(sparkPoints([0, 5, 10], 100, 20), '0,19 50,10 100,1');
  assert.equal(sparkPoints([0, 0], 10, 20), '0,19 10,19', 'all zero: a flat line at the bottom');
});

test('copy as curl quotes for the shell and leaves out what must not be replayed', () => {
  assert.equal(shellQuote('plain-value'), 'plain-value');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  const cmd = curlCommand({
    method: 'POST',
    url: 'http://127.0.0.1:8080/fn/greet/?name=a b',
    headers: {
      host: '127.0.0.1:8080',
      'content-type': 'application/json',
      authorization: '[redacted]',
      'x-kumo-invocation-id': 'abc',
      'content-length': '9',
    },
    body: `{"a":"'"}`,
    encoding: 'utf8',
  });
  assert.equal(
    cmd,
    `curl -X POST 'http://127.0.0.1:8080/fn/greet/?name=a b' -H 'content-type: application/json' --data-binary '{"a":"'\\''"}'`,
  );
  assert.equal(
    curlCommand({ method: 'GET', url: 'http://h/fn/x/', headers: {}, body: null, encoding: null }),
    'curl http://h/fn/x/',
  );
  assert.equal(
    curlCommand({ method: 'PUT', url: 'http://h/fn/x/', headers: {}, body: 'AAE=', encoding: 'base64' }),
    'printf %s AAE= | base64 -d | curl -X PUT http://h/fn/x/ --data-binary @-',
  );
});

test('header lines of the invoke console are parsed, and a line without a colon is refused', () => {
  assert.deepEqual(parseHeaderLines('a: 1\n\n  B-C :two: three '), [
    ['a', '1'],
    ['B-C', 'two: three'],
  ]);
  assert.throws(() => parseHeaderLines('nope'), /line 1/);
});

test('functions are searched by name or runtime and sorted by any column, then by name', () => {
  const row = (name: string, runtime: string, count: number, total: number) => ({
    name,
    runtime,
    count,
    errorRate: 0,
    p95: count,
    coldShare: 0,
    instances: { total },
  });
  const rows = [row('b', 'node', 5, 1), row('a', 'python', 5, 0), row('c', 'lua', 9, 2)];
  assert.deepEqual(
    filterAndSort(rows, '', 'count', true).map((r) => r.name),
    ['c', 'a', 'b'],
  );
  assert.deepEqual(
    filterAndSort(rows, '', 'instances', false).map((r) => r.name),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    filterAndSort(rows, 'PYTH', 'name', false).map((r) => r.name),
    ['a'],
  );
  assert.deepEqual(
    filterAndSort(rows, '', 'runtime', false).map((r) => r.runtime),
    ['lua', 'node', 'python'],
  );
});
