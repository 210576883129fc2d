import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { describeStoreContracts } from '../contract/index.ts';
import { versionOf } from '../contract/support.ts';
import { MIGRATIONS } from './migrations.ts';
import { openSqliteStores } from './stores.ts';

describeStoreContracts(() => openSqliteStores(':memory:'));

test('migrations run once and the schema version persists across reopen', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-store-'));
  try {
    const file = path.join(dir, 'k.db');
    const a = openSqliteStores(file);
    assert.equal(a.schemaVersion(), MIGRATIONS.at(-1)?.version);
    await a.functions.addVersion(versionOf('f', 1));
    await a.close();
    await a.close();
    const b = openSqliteStores(file);
    assert.equal(b.schemaVersion(), MIGRATIONS.at(-1)?.version);
    assert.equal((await b.functions.getFunction('f'))?.activeVersion, 1);
    await b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failing migration rolls back and says which one', () => {
  assert.throws(
    () =>
      openSqliteStores(':memory:', [
        ...MIGRATIONS,
        { version: 99, name: 'broken', sql: 'CREATE TABLE x (; nonsense' },
      ]),
    /migration 99 \(broken\) failed/,
  );
});
