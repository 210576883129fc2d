import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { describeStoreContracts } from '../contract/index.ts';
import { versionOf } from '../contract/support.ts';
import { openPool } from './database.ts';
import { PG_MIGRATIONS } from './migrations.ts';
import { openPostgresStores } from './stores.ts';

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg.stop();
});

// Every test of every suite gets a fresh, empty database.
describeStoreContracts(async () => openPostgresStores(await pg.createDatabase(), { max: 4 }));

test('migrations run once, also when several nodes start at once, and the schema persists across reopen', async () => {
  const url = await pg.createDatabase();
  const nodes = await Promise.all([1, 2, 3].map(() => openPostgresStores(url, { max: 2 })));
  for (const n of nodes) assert.equal(await n.schemaVersion(), PG_MIGRATIONS.at(-1)?.version);
  const [row] = await nodes[0]!.sql`SELECT count(*) AS n FROM schema_migrations`; // eslint-disable-line @typescript-eslint/no-non-null-assertion -- three were opened
  assert.equal(Number(row?.n), PG_MIGRATIONS.length);
  await nodes[0]?.functions.addVersion(versionOf('f', 1));
  await Promise.all(nodes.map((n) => n.close()));
  await nodes[0]?.close();
  const again = await openPostgresStores(url, { max: 1 });
  assert.equal((await again.functions.getFunction('f'))?.activeVersion, 1);
  await again.close();
});

test('a failing migration rolls back and says which one', async () => {
  const url = await pg.createDatabase();
  await assert.rejects(
    openPostgresStores(url, {
      migrations: [...PG_MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE x (; nonsense' }],
    }),
    /migration 99 \(broken\) failed/,
  );
  const ok = await openPostgresStores(url);
  assert.equal(
    await ok.schemaVersion(),
    PG_MIGRATIONS.at(-1)?.version,
    'the good ones apply on the next start',
  );
  await ok.close();
});

test('an unreachable server or a wrong password fails with host and port, never the password', async () => {
  const url = new URL(await pg.createDatabase());
  const wrong = new URL(url);
  wrong.password = 'pw-that-must-not-leak';
  await assert.rejects(openPostgresStores(wrong.toString()), (err: Error) => {
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${pg.port}`));
    assert.doesNotMatch(err.message, /pw-that-must-not-leak/);
    return true;
  });
  const closed = new URL(wrong);
  closed.port = '1';
  await assert.rejects(openPostgresStores(closed.toString(), { connectTimeout: 2 }), (err: Error) => {
    assert.match(err.message, /127\.0\.0\.1:1\//);
    assert.doesNotMatch(err.message, /pw-that-must-not-leak/);
    return true;
  });
});

test('text with a NUL character is stored as U+FFFD in log lines (PostgreSQL text cannot hold NUL)', async () => {
  const stores = await openPostgresStores(await pg.createDatabase(), { max: 1 });
  try {
    await stores.functions.appendLogs([
      { time: 1, function: 'f', version: 1, invocationId: null, stream: 'stdout', line: 'a\u0000b' },
    ]);
    assert.equal((await stores.functions.queryLogs({ function: 'f', limit: 1 }))[0]?.line, 'a\uFFFDb');
  } finally {
    await stores.close();
  }
});

test('a touch and a collecting delete of one build never both win: the second sees the first', async () => {
  const stores = await openPostgresStores(await pg.createDatabase(), { max: 4 });
  /** Resolves once a statement of this database waits for a row lock. */
  const blocked = async () => {
    for (let i = 0; i < 200; i++) {
      const [row] = await stores.sql`SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      if (Number(row?.n) > 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no statement waited for the lock within 5 s');
  };
  try {
    const c = stores.cluster;
    for (const hash of ['touched', 'deleted'])
      await c.putBuild(hash, { sha256: 's', blob: Buffer.from(hash) }, 100);
    // A deploy touches a build while a collection (started before the deploy's version exists) is deleting it.
    let collected: Promise<string[]> | undefined;
    await stores.sql.begin(async (tx) => {
      await tx`UPDATE cluster_builds SET created_at = 5000 WHERE hash = 'touched'`;
      collected = c.deleteUnusedBuilds(1000, 10);
      await blocked();
    });
    assert.deepEqual(await collected, ['deleted'], 'the delete re-read the touched row and spared it');
    assert.equal(await c.hasBuild('touched'), true);
    // The other order: a touch waiting for a delete finds no row, so the deploy publishes again.
    await c.putBuild('again', { sha256: 's', blob: Buffer.from('again') }, 100);
    let touched: Promise<boolean> | undefined;
    await stores.sql.begin(async (tx) => {
      await tx`DELETE FROM cluster_builds WHERE hash = 'again'`;
      touched = c.touchBuild('again', 5000);
      await blocked();
    });
    assert.equal(await touched, false);
  } finally {
    await stores.close();
  }
});

test('a backend killed in the middle of a transaction rejects that transaction and nothing else: the process lives on and the pool keeps serving', async () => {
  // postgres 3.4.9 wrote the transaction's ROLLBACK on the dead connection from a setImmediate and
  // threw an uncaught TypeError (porsager/postgres#1208): a store outage took the whole node down.
  // Past that, the killed backend's FATAL error stayed on the connection and rejected the first
  // query after its reconnect (round 3 reuses round 1's connection), and end() waited forever.
  // vendor/postgres carries the fix.
  const url = await pg.createDatabase();
  const sql = await openPool(url, { max: 2 });
  const killer = await openPool(url, { max: 1 });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    for (let round = 0; round < 3; round++) {
      let pid: number | undefined;
      const tx = sql.begin(async (t) => {
        const [row] = await t<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        pid = row?.pid;
        await t`SELECT pg_sleep(5)`;
      });
      const settled = tx.then(
        () => 'committed',
        (err: Error & { code?: string }) => err.code ?? err.message,
      );
      while (pid === undefined) await new Promise((r) => setTimeout(r, 10));
      await killer`SELECT pg_terminate_backend(${pid})`;
      assert.notEqual(await settled, 'committed');
      await new Promise((r) => setTimeout(r, 50));
      const [row] = await sql<{ n: number }[]>`SELECT 1 AS n`;
      assert.equal(row?.n, 1, 'the pool serves the next query');
    }
    assert.deepEqual(uncaught, [], 'no uncaught exception');
    const ended = await Promise.race([
      sql.end().then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
    ]);
    assert.equal(ended, 'ended', 'the pool closes: no connection waits on a query of a dead socket');
  } finally {
    process.off('uncaughtException', onUncaught);
    await sql.end({ timeout: 1 });
    await killer.end({ timeout: 1 });
  }
});
