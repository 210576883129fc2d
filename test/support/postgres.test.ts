import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import postgres from 'postgres';
import { startPostgres } from './postgres.ts';

test('a throwaway PostgreSQL gives fresh databases, survives a pause and is gone after stop', async () => {
  const pg = await startPostgres();
  let stopped = false;
  try {
    const a = await pg.createDatabase();
    const b = await pg.createDatabase();
    assert.notEqual(a, b);
    const sql = postgres(a, { max: 1, onnotice: () => {} });
    await sql`CREATE TABLE t (n int)`;
    await sql`INSERT INTO t VALUES (1)`;
    const other = postgres(b, { max: 1, onnotice: () => {} });
    const [empty] = await other`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 't'`;
    assert.equal(empty?.n, 0, 'each database starts empty');
    await other.end();

    // A wrong password is refused: the server really checks it (scram over TCP).
    const wrong = postgres(a.replace(pg.password, 'not-the-password'), { max: 1, onnotice: () => {} });
    await assert.rejects(wrong`SELECT 1`, /password authentication failed/);
    await wrong.end();

    if (!process.env.KUMO_TEST_POSTGRES) {
      await sql.end();
      await pg.pause();
      assert.equal(pg.running, false);
      const down = postgres(a, { max: 1, onnotice: () => {}, connect_timeout: 2 });
      await assert.rejects(down`SELECT 1`);
      await down.end();
      await pg.resume();
      assert.equal(pg.running, true);
      const again = postgres(a, { max: 1, onnotice: () => {} });
      const [row] = await again`SELECT n FROM t`;
      assert.equal(row?.n, 1, 'the data outlives a pause');
      await again.end();
    } else await sql.end();
    await pg.stop();
    stopped = true;
    if (pg.folder !== undefined) assert.equal(existsSync(pg.folder), false, 'its folder is removed');
    const gone = postgres(a, { max: 1, onnotice: () => {}, connect_timeout: 2 });
    await assert.rejects(gone`SELECT 1`);
    await gone.end();
  } finally {
    if (!stopped) await pg.stop();
  }
});

test('two servers at once listen on different ports', async () => {
  const [x, y] = await Promise.all([startPostgres(), startPostgres()]);
  try {
    if (!process.env.KUMO_TEST_POSTGRES) assert.notEqual(x.port, y.port);
    for (const pg of [x, y]) {
      const sql = postgres(await pg.createDatabase(), { max: 1, onnotice: () => {} });
      const [row] = await sql`SELECT 1 AS one`;
      assert.equal(row?.one, 1);
      await sql.end();
    }
  } finally {
    await Promise.all([x.stop(), y.stop()]);
  }
});
