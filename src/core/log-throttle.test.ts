import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Fields } from './logger.ts';
import { LogThrottle } from './log-throttle.ts';

test('writes the first line of a kind, counts repeats within the interval, reports them on the next line', () => {
  const lines: [string, Fields | undefined][] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (m: string, f?: Fields) => lines.push([m, f]) };
  let now = 0;
  const throttle = new LogThrottle(log, 1000, () => now);
  for (let i = 0; i < 50; i++) throttle.warn('a', 'full', { fn: 'x' });
  throttle.warn('b', 'other');
  assert.deepEqual(lines, [
    ['full', { fn: 'x' }],
    ['other', {}],
  ]);
  now = 1500;
  throttle.warn('a', 'full', { fn: 'x' });
  assert.deepEqual(lines[2], ['full', { fn: 'x', repeated: 49 }]);
});
