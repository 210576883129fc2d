import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Fields, ServerLog } from './logger.ts';
import { LogThrottle } from './log-throttle.ts';

test('at most `burst` lines per key per interval; the next line says how many were left out', () => {
  const lines: [string, Fields | undefined][] = [];
  const log = { warn: (m: string, f?: Fields) => lines.push([m, f]) } as unknown as ServerLog;
  let now = 0;
  const t = new LogThrottle(log, { burst: 2, intervalMs: 1000, now: () => now });
  for (let i = 0; i < 10; i++) t.warn('k', 'flood', { i });
  t.warn('other', 'another key');
  assert.deepEqual(
    lines.map(([m, f]) => `${m} ${JSON.stringify(f)}`),
    ['flood {"i":0}', 'flood {"i":1}', 'another key {}'],
  );
  now = 1500;
  t.warn('k', 'flood', { i: 10 });
  assert.deepEqual(lines.at(-1), ['flood', { i: 10, suppressed: 8 }]);
});
