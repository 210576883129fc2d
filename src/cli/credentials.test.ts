import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  credentialsPath,
  findKey,
  loggedInServer,
  readCredentials,
  serverKey,
  writeCredentials,
} from './credentials.ts';

test('the key comes from KUMO_API_KEY, else the login config for that server, else a local data directory', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-cred-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    KUMO_DATA: path.join(dir, 'data'),
  };
  const local = new URL('http://127.0.0.1:8080');
  const remote = new URL('https://kumo.example.com/base/');
  assert.equal(findKey(local, env, dir), undefined);

  await mkdir(env.KUMO_DATA ?? '', { recursive: true });
  await writeFile(path.join(env.KUMO_DATA ?? '', 'admin.key'), 'kumo_file_key\n');
  assert.deepEqual(findKey(local, env, dir), {
    key: 'kumo_file_key',
    source: path.join(dir, 'data', 'admin.key'),
  });
  assert.equal(findKey(remote, env, dir), undefined, 'a data-directory key never goes to another machine');
  assert.equal(findKey(new URL('http://[::1]:9/'), env, dir)?.key, 'kumo_file_key');

  const file = await writeCredentials(env, {
    current: serverKey(remote),
    servers: {
      [serverKey(local)]: { key: 'kumo_login_local', savedAt: 1 },
      [serverKey(remote)]: { key: 'kumo_login_remote', savedAt: 1 },
    },
  });
  assert.equal(file, credentialsPath(env));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
  assert.equal(findKey(local, env, dir)?.key, 'kumo_login_local');
  assert.equal(findKey(new URL('https://kumo.example.com/base'), env, dir)?.key, 'kumo_login_remote');
  assert.equal(loggedInServer(env), 'https://kumo.example.com/base');
  assert.deepEqual(findKey(local, { ...env, KUMO_API_KEY: 'kumo_env' }, dir), {
    key: 'kumo_env',
    source: 'KUMO_API_KEY',
  });

  await writeFile(file, 'not json');
  assert.throws(() => readCredentials(env), /is not JSON/);
  assert.equal(loggedInServer(env), undefined);
});
