/**
 * The PostgreSQL store's URL carries a password (issue 14): it must never reach a log line, an
 * error, an API answer or a function. A bad URL or an unreachable server fails the start with a
 * message naming host and port, still without the password.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import {
  api,
  invoke,
  kumo,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from '../e2e/harness.ts';

/** Reads everything a function can see of its environment and of the processes it can list. */
const SNOOP = `const fs = require('node:fs');
module.exports = async () => {
  let seen = JSON.stringify(process.env);
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))) {
    for (const f of ['cmdline', 'environ']) {
      try { seen += fs.readFileSync('/proc/' + pid + '/' + f, 'latin1'); } catch {}
    }
  }
  console.log('snooped ' + seen.length + ' bytes');
  return { statusCode: 200, body: seen };
};`;

describe('the PostgreSQL store URL never leaks its password', () => {
  let pg: TestPostgres;
  let server: TestServer;
  let url: string;
  let password: string;
  const scratch: string[] = [];

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    password = decodeURIComponent(new URL(url).password);
    assert.ok(password.length >= 8, 'the test server has a real password');
    server = await startTestServer(['--store', url]);
  });
  after(async () => {
    await server?.dispose();
    await pg?.stop();
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  test('a server on PostgreSQL logs, answers and hands functions nothing holding the password', async () => {
    assert.ok(
      server.logLines.some((l) => l.includes('store: PostgreSQL') && l.includes(`127.0.0.1:${pg.port}`)),
      'the start names the database',
    );
    await mustDeploy(server, await writeFunction({ 'index.js': SNOOP }), 'name=snoop');
    const res = await invoke(server, 'snoop');
    assert.equal(res.status, 200);
    const seen = await res.text();
    assert.ok(seen.length > 10);
    assert.ok(!seen.includes(password), 'a function sees no trace of the password');
    await api(server, '/functions/missing');
    for (const p of ['/status', '/functions', '/functions/snoop/logs', '/audit', '/openapi.json']) {
      const body = await (await api(server, p)).text();
      assert.ok(!body.includes(password), `${p} does not hold the password`);
    }
    assert.ok(!server.logLines.join('\n').includes(password), 'no log line holds the password');
  });

  test('a wrong password, an unreachable server and a bad URL fail the start naming host and port, never the password', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-store-url-'));
    scratch.push(dir);
    const secret = 'Sup3r-secret-pw';
    const up = (store: string) =>
      kumo('http://127.0.0.1:1', ['up', '--port', '0', '--data', dir, '--store', store]);

    const wrong = new URL(url);
    wrong.password = secret;
    const refused = await up(wrong.toString());
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`127\\.0\\.0\\.1:${pg.port}`));
    assert.match(refused.stderr, /password authentication failed/);

    const nobody = new URL(wrong);
    nobody.port = '1';
    const unreachable = await up(nobody.toString());
    assert.equal(unreachable.code, 1, unreachable.stderr);
    assert.match(unreachable.stderr, /127\.0\.0\.1:1\//);
    assert.match(unreachable.stderr, /ECONNREFUSED|connect/);

    const noPort = await up(`postgres://kumo:${secret}@127.0.0.1:notaport/db`);
    assert.equal(noPort.code, 1);
    assert.match(noPort.stderr, /--store/);
    const noDb = await up(`postgres://kumo:${secret}@127.0.0.1:5432`);
    assert.equal(noDb.code, 1);
    assert.match(noDb.stderr, /names no database/);
    const otherScheme = await up(`mysql://kumo:${secret}@127.0.0.1:3306/db`);
    assert.equal(otherScheme.code, 1);
    assert.match(otherScheme.stderr, /sqlite or a PostgreSQL URL/);

    for (const r of [refused, unreachable, noPort, noDb, otherScheme])
      assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), `no output holds the password: ${r.stderr}`);
  });
});
