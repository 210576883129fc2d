/**
 * First start and the CLI's keys, as a user meets them: `kumo up` in a folder makes an admin key
 * file only its owner can read; the CLI in that folder finds it with nothing configured; `kumo keys`,
 * `kumo login` (credentials saved 0600), `kumo logout` and `kumo audit` work end to end; a restart
 * makes no new key.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { kumo, ROOT, spawnKumo, type KumoChild } from './harness.ts';

/** `kumo up --port 0` as a child process in `cwd`, so that its data directory is `cwd/.kumo`. */
async function startKumoIn(cwd: string): Promise<KumoChild> {
  const env = { ...process.env };
  delete env.KUMO_DATA;
  delete env.KUMO_API_KEY;
  return spawnKumo([], { cwd, env });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

test('first start leaves an admin key file the local CLI finds; keys, login, logout and audit work from the CLI', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'kumo-first-'));
  const config = await mkdtemp(path.join(os.tmpdir(), 'kumo-config-'));
  let server = await startKumoIn(home);
  try {
    const keyFile = path.join(home, '.kumo', 'admin.key');
    assert.match(server.output(), /first start: created an admin API key/);
    assert.ok(server.output().includes(keyFile), 'the log says where the key is');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const adminKey = (await readFile(keyFile, 'utf8')).trim();
    assert.ok(!server.output().includes(adminKey), 'the key itself is never printed');

    // Nothing configured: the CLI in that folder uses the key file, as README command 1 does.
    const local = { key: null, cwd: home, env: { KUMO_DATA: undefined } } as const;
    const list = await kumo(server.url, ['list'], undefined, local);
    assert.equal(list.code, 0, list.stderr);
    const elsewhere = await kumo(server.url, ['list'], undefined, { key: null });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /needs an API key.*kumo login.*\(unauthorized\)\n$/);

    const created = await kumo(
      server.url,
      ['keys', 'create', '--scope', 'read', '--name', 'ro'],
      undefined,
      local,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^kumo_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/, 'the key alone on stdout');
    assert.match(created.stderr, /with scope read\. Copy it now: it is not shown again/);
    const readKey = created.stdout.trim();
    const readId = readKey.slice(5, 17);
    const table = await kumo(server.url, ['keys', 'list'], undefined, local);
    assert.match(table.stdout, /^ID +NAME +SCOPES +CREATED +LAST USED +STATUS\n/);
    assert.match(table.stdout, new RegExp(`${readId} +ro +read .* active\\n`));
    assert.ok(!table.stdout.includes(readKey));
    const badScope = await kumo(server.url, ['keys', 'create', '--scope', 'root'], undefined, local);
    assert.equal(badScope.code, 2);

    // kumo login: the key from stdin, checked, saved 0600 in a 0700 folder; the server becomes the default.
    const asUser = { key: null, env: { XDG_CONFIG_HOME: config, KUMO_URL: undefined } } as const;
    const login = await kumo(server.url, ['login', server.url], `${readKey}\n`, asUser);
    assert.equal(login.code, 0, login.stderr);
    assert.match(
      login.stdout,
      new RegExp(`logged in to ${server.url} with key ${readId} \\(ro, scope read\\)`),
    );
    const credentials = path.join(config, 'kumo', 'credentials.json');
    assert.equal((await stat(credentials)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(credentials))).mode & 0o777, 0o700);
    const saved = await readFile(credentials, 'utf8');
    const viaLogin = await kumo(server.url, ['list', '--json'], undefined, asUser);
    assert.equal(viaLogin.code, 0, viaLogin.stderr);
    const deploy = await kumo(
      server.url,
      ['deploy', path.join(ROOT, 'examples', 'greet')],
      undefined,
      asUser,
    );
    assert.equal(deploy.code, 1);
    assert.match(deploy.stderr, /POST \/api\/v1\/functions needs deploy \(forbidden\)/);
    const refusedDeploy = await kumo(server.url, ['keys', 'list'], undefined, asUser);
    assert.match(refusedDeploy.stderr, /has the scopes read; GET \/api\/v1\/keys needs admin \(forbidden\)/);
    const badLogin = await kumo(
      server.url,
      ['login', server.url, '--key', `kumo_000000000000_${'x'.repeat(43)}`],
      undefined,
      asUser,
    );
    assert.equal(badLogin.code, 1);
    assert.match(badLogin.stderr, /\(unauthorized\)/);
    assert.equal(await readFile(credentials, 'utf8'), saved, 'a refused key is not saved');

    // Revoked: the saved key stops working at once.
    const revoke = await kumo(server.url, ['keys', 'revoke', readId], undefined, local);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal(revoke.stdout, `key ${readId} (ro) revoked\n`);
    const afterRevoke = await kumo(server.url, ['list'], undefined, asUser);
    assert.equal(afterRevoke.code, 1);
    assert.match(afterRevoke.stderr, /was revoked/);

    const audit = await kumo(server.url, ['audit', '--key', readId], undefined, local);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, new RegExp(`${readId} \\(ro\\) +GET +/api/v1/keys +403 +forbidden`));
    assert.match(audit.stdout, new RegExp(`${readId} +GET +/api/v1/functions +401 +unauthorized`));
    assert.ok(!audit.stdout.includes(readKey.slice(18)));

    const logout = await kumo(server.url, ['logout'], undefined, asUser);
    assert.equal(logout.code, 0, logout.stderr);
    assert.ok(!(await readFile(credentials, 'utf8')).includes(readKey));

    // A restart makes no new key: the file and the key stay the same.
    await stop(server.child);
    server = await startKumoIn(home);
    assert.doesNotMatch(server.output(), /first start/);
    assert.equal((await readFile(keyFile, 'utf8')).trim(), adminKey);
    assert.equal((await kumo(server.url, ['list'], undefined, local)).code, 0);
  } finally {
    await stop(server.child);
    await rm(home, { recursive: true, force: true });
    await rm(config, { recursive: true, force: true });
  }
});
