import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, formatTable, formatTime } from './format.ts';

test('formats sizes in SI units with one decimal', () => {
  assert.equal(formatSize(0), '0 B');
  assert.equal(formatSize(999), '999 B');
  assert.equal(formatSize(1000), '1.0 kB');
  assert.equal(formatSize(1234), '1.2 kB');
  assert.equal(formatSize(3_400_000), '3.4 MB');
  assert.equal(formatSize(52_428_800), '52.4 MB');
  assert.equal(formatSize(2_500_000_000), '2.5 GB');
});

test('steps up a unit instead of printing 1000.0', () => {
  assert.equal(formatSize(999_960), '1.0 MB');
  assert.equal(formatSize(999_940), '999.9 kB');
});

test('formats times as ISO 8601 UTC to the second', () => {
  assert.equal(formatTime(Date.UTC(2025, 10, 24, 16, 0, 5, 123)), '2025-11-24T16:00:05Z');
});

test('aligns table columns and leaves no trailing spaces', () => {
  const table = formatTable(
    ['NAME', 'VERSION', 'ACTIVE'],
    [
      ['greet', '12', '*'],
      ['a-much-longer-name', '3', ''],
    ],
  );
  assert.equal(
    table,
    'NAME                VERSION  ACTIVE\n' + 'greet               12       *\n' + 'a-much-longer-name  3\n',
  );
});
