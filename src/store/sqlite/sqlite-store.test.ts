import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseManifest, toFunctionSpec, type VersionRecord } from '../../core/index.ts';
import { MIGRATIONS } from './migrations.ts';
import { openSqliteStore } from './sqlite-store.ts';

const spec = toFunctionSpec(parseManifest({ name: 'f' }), undefined);
const version = (n: number): VersionRecord => ({
  function: 'f',
  version: n,
  hash: `h${n}`,
  bundleHash: `b${n}`,
  spec,
  buildDir: `/b/${n}`,
  buildLog: '',
  createdAt: n,
});

test('migrations run once and the schema version persists across reopen', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-store-'));
  try {
    const file = path.join(dir, 'k.db');
    const a = openSqliteStore(file);
    assert.equal(a.schemaVersion(), MIGRATIONS.at(-1)?.version);
    a.addVersion(version(1));
    a.close();
    const b = openSqliteStore(file);
    assert.equal(b.schemaVersion(), MIGRATIONS.at(-1)?.version);
    assert.equal(b.getFunction('f')?.activeVersion, 1);
    b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failing migration rolls back and says which one', () => {
  assert.throws(
    () =>
      openSqliteStore(':memory:', [
        ...MIGRATIONS,
        { version: 99, name: 'broken', sql: 'CREATE TABLE x (; nonsense' },
      ]),
    /migration 99 \(broken\) failed/,
  );
});

test('versions are numbered, activated atomically and rolled back', () => {
  const s = openSqliteStore(':memory:');
  assert.equal(s.nextVersion('f'), 1);
  s.addVersion(version(1));
  s.addVersion(version(2));
  assert.equal(s.nextVersion('f'), 3);
  assert.equal(s.getFunction('f')?.activeVersion, 2);
  assert.equal(s.setActiveVersion('f', 1, 5), true);
  assert.equal(s.getFunction('f')?.activeVersion, 1);
  assert.equal(s.nextVersion('f'), 3, 'rollback does not reuse numbers');
  assert.equal(s.setActiveVersion('f', 7, 5), false);
  assert.deepEqual(
    s.listVersions('f').map((v) => v.version),
    [1, 2],
  );
  assert.deepEqual(s.getVersion('f', 2)?.spec, spec);
  assert.equal(s.deleteFunction('f'), true);
  assert.equal(s.getFunction('f'), undefined);
  assert.deepEqual(s.listVersions('f'), []);
  s.close();
});

test('logs are queried newest-limited, oldest first, and pruned per function', () => {
  const s = openSqliteStore(':memory:');
  const line = (fn: string, i: number) => ({
    time: i,
    function: fn,
    version: 1,
    invocationId: null,
    stream: 'stdout' as const,
    line: `${fn}${i}`,
  });
  s.appendLogs(Array.from({ length: 10 }, (_, i) => line('a', i)));
  s.appendLogs(Array.from({ length: 3 }, (_, i) => line('b', i)));
  assert.deepEqual(
    s.queryLogs({ function: 'a', limit: 3 }).map((l) => l.line),
    ['a7', 'a8', 'a9'],
  );
  assert.deepEqual(
    s.queryLogs({ function: 'a', limit: 100, since: 8 }).map((l) => l.line),
    ['a8', 'a9'],
  );
  assert.equal(s.pruneLogs(4), 6);
  assert.deepEqual(
    s.queryLogs({ function: 'a', limit: 100 }).map((l) => l.line),
    ['a6', 'a7', 'a8', 'a9'],
  );
  assert.equal(s.queryLogs({ function: 'b', limit: 100 }).length, 3);
  s.close();
});
