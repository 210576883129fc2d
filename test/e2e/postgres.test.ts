/**
 * A server on PostgreSQL (`kumo up --store postgres://…`, issue 14) through a normal day: deploy,
 * sync and async calls, history, logs, keys, secrets, a schedule, kv and docs, rollback, delete,
 * and a restart that finds everything again. Then two servers on one database: a key revoked
 * through one stops working on the other within the key cache's TTL.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KEY_CACHE_TTL_MS } from '../../src/auth/index.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import {
  api,
  apiJson,
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

const APP = `export default { async fetch(req) {
  const url = new URL(req.url);
  console.log('handled ' + url.pathname + ' secret-length=' + (process.env.TOKEN ?? '').length);
  if (url.pathname === '/kv') {
    const n = (await call('kv', 'get', { key: 'n' })) ?? 0;
    await call('kv', 'set', { key: 'n', value: n + 1 });
    return Response.json({ n: n + 1 });
  }
  if (url.pathname === '/docs') {
    await call('docs', 'insert', { collection: 'notes', data: { by: 'app', n: Number(url.searchParams.get('n')) } });
    return Response.json(await call('docs', 'query', { collection: 'notes', query: { n: { $gte: 2 } } }));
  }
  return new Response('v' + (process.env.V ?? '?') + ':' + (await req.text()));
} };
`;

describe('a server on PostgreSQL', () => {
  let pg: TestPostgres;
  let url: string;
  let dataDir: string;
  let server: TestServer;

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-pg-e2e-'));
    server = await startTestServer(['--store', url], dataDir);
  });
  after(async () => {
    await server?.close();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('deploy, sync and async calls, history, logs, keys, secrets, schedules, kv, docs, rollback, restart and delete', async () => {
    assert.ok(server.logLines.some((l) => l.includes('store: PostgreSQL')));
    const yaml = (v: number) =>
      `name: app\nplugins: [kv, docs]\nenv:\n  V: "${v}"\nschedule:\n  cron: "* * * * * *"\n`;
    const dir1 = await writeFunction({ 'kumo.yaml': yaml(1), 'index.js': APP });
    await mustDeploy(server, dir1);
    await mustDeploy(server, await writeFunction({ 'kumo.yaml': yaml(2), 'index.js': APP }));

    const sync = await invoke(server, 'app', '/', { method: 'POST', body: 'hi' });
    assert.equal(await sync.text(), 'v2:hi');
    const accepted = await invoke(server, 'app', '/', {
      method: 'POST',
      headers: { prefer: 'respond-async' },
      body: 'later',
    });
    assert.equal(accepted.status, 202);
    const { id } = (await accepted.json()) as { id: string };
    const done = await eventually(
      async () => {
        const r = await fetch(`${server.url}/invocations/${id}`);
        return r.status === 200 ? r : undefined;
      },
      20_000,
      'the async result',
    );
    assert.equal(await done.text(), 'v2:later');

    // The schedule (every second) runs through the queue too.
    await eventually(
      async () => {
        const h = await apiJson<{ invocations: { trigger: string; status: string }[] }>(
          server,
          '/history?function=app&trigger=cron',
        );
        return h.invocations.some((i) => i.status === 'succeeded');
      },
      20_000,
      'a cron run',
    );
    assert.equal(
      (await apiJson<{ schedules: unknown[] }>(server, '/functions/app/schedules')).schedules.length,
      1,
    );

    // Secrets are sealed with the key file outside the database; a new instance gets them.
    const put = await api(server, '/functions/app/secrets/TOKEN', { method: 'PUT', body: 'tok-123456' });
    assert.equal(put.status, 201);
    assert.deepEqual(
      (await apiJson<{ secrets: { name: string }[] }>(server, '/functions/app/secrets')).secrets.map(
        (s) => s.name,
      ),
      ['TOKEN'],
    );
    const [row] = await pgQuery(url, 'SELECT ciphertext FROM secrets');
    assert.ok(
      !Buffer.from(row?.ciphertext as Uint8Array).includes('tok-123456'),
      'only ciphertext in the database',
    );

    // kv and docs.
    assert.deepEqual(await (await invoke(server, 'app', '/kv')).json(), { n: 1 });
    assert.deepEqual(await (await invoke(server, 'app', '/kv')).json(), { n: 2 });
    for (const n of [1, 2, 3]) await invoke(server, 'app', `/docs?n=${n}`);
    const notes = (await (await invoke(server, 'app', '/docs?n=4')).json()) as { n: number }[];
    assert.deepEqual(
      notes.map((d) => d.n),
      [2, 3, 4],
    );

    // History and logs, read back from the database.
    await eventually(async () => {
      const h = await apiJson<{ invocations: { trigger: string }[] }>(
        server,
        '/history?function=app&trigger=http',
      );
      return h.invocations.length >= 7;
    });
    const logs = await eventually(async () => {
      const l = await apiJson<{ lines: { line: string }[] }>(server, '/functions/app/logs?limit=1000');
      return l.lines.some((x) => x.line.includes('secret-length=10')) ? l : undefined;
    });
    assert.ok(logs.lines.some((x) => x.line.includes('handled /kv')));

    // Keys: a private function needs an invoke key; a revoked key is refused at once on this node.
    const created = await api(server, '/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'caller', scopes: ['invoke'] }),
    });
    assert.equal(created.status, 201);
    const key = (await created.json()) as { id: string; key: string };
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: private\naccess: private\n', 'index.js': APP }),
    );
    assert.equal((await invoke(server, 'private')).status, 401);
    const auth = { headers: { authorization: `Bearer ${key.key}` } };
    assert.equal((await invoke(server, 'private', '/', auth)).status, 200);
    assert.equal((await api(server, `/keys/${key.id}`, { method: 'DELETE' })).status, 200);
    assert.equal((await invoke(server, 'private', '/', auth)).status, 401);

    // Rollback, then a restart on the same database finds everything.
    assert.equal(
      (await api(server, '/functions/app/rollback', { method: 'POST', body: '{"version":1}' })).status,
      200,
    );
    assert.equal(await (await invoke(server, 'app', '/', { method: 'POST', body: 'x' })).text(), 'v1:x');
    await server.close();
    server = await startTestServer(['--store', url], dataDir);
    assert.equal(await (await invoke(server, 'app', '/', { method: 'POST', body: 'y' })).text(), 'v1:y');
    assert.deepEqual(await (await invoke(server, 'app', '/kv')).json(), { n: 3 });
    const again = await apiJson<{ invocations: { id: string }[] }>(server, '/history?function=app&limit=500');
    assert.ok(
      again.invocations.some((i) => i.id === id),
      'the async invocation is still in the history',
    );

    // Delete: the function, its versions, logs, secrets, schedules and plugin data go.
    assert.equal((await api(server, '/functions/app', { method: 'DELETE' })).status, 200);
    assert.equal((await invoke(server, 'app')).status, 404);
    for (const table of ['versions', 'logs', 'secrets', 'schedules', 'plugin_kv']) {
      const left = await eventually(async () => {
        const [r] = await pgQuery(url, `SELECT count(*)::int AS n FROM ${table} WHERE function = 'app'`);
        return r?.n === 0 ? true : undefined;
      });
      assert.ok(left, `${table} holds nothing of app`);
    }
  });

  test('two servers on one database: a key revoked through one stops working on the other within the cache TTL', async () => {
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: shared\naccess: private\n', 'index.js': APP }),
    );
    const created = await api(server, '/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'two', scopes: ['invoke'] }),
    });
    const key = (await created.json()) as { id: string; key: string };
    const auth = { headers: { authorization: `Bearer ${key.key}` } };
    // The second node: its own data folder, the same database (and the admin key, as an operator would copy it).
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-pg-e2e-'));
    await copyFile(path.join(dataDir, 'admin.key'), path.join(otherDir, 'admin.key'));
    const other = await startTestServer(['--store', url], otherDir);
    try {
      assert.equal((await invoke(other, 'shared', '/', auth)).status, 200);
      assert.equal((await api(server, `/keys/${key.id}`, { method: 'DELETE' })).status, 200);
      const revokedAt = Date.now();
      await eventually(
        async () => (await invoke(other, 'shared', '/', auth)).status === 401,
        KEY_CACHE_TTL_MS + 3000,
      );
      assert.ok(Date.now() - revokedAt <= KEY_CACHE_TTL_MS + 1500, 'within the TTL (and a request)');
    } finally {
      await other.close();
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

/** One query on `url`, with a connection of its own. */
async function pgQuery(url: string, text: string): Promise<Record<string, unknown>[]> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return [...(await sql.unsafe(text))];
  } finally {
    await sql.end();
  }
}
