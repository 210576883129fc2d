/**
 * Access control of the data plane and of secrets: private functions need an invoke key (on every
 * path that calls a function), a function never sees the caller's kumo key, secrets reach the
 * function as environment variables and nowhere else in plain text, and the rate and size limits
 * answer 429, 414 and 431.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  dumpPostgres,
  eventually,
  kumo,
  mustDeploy,
  raw,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

/** Returns the request's authorization header and the sha256 of DB_PASSWORD; logs the password by mistake. */
const ECHO = `import { createHash } from 'node:crypto';
export default { fetch(req) {
  const pw = process.env.DB_PASSWORD;
  if (pw) console.log('connecting with password ' + pw);
  return Response.json({
    authorization: req.headers.get('authorization'),
    pw: pw ? createHash('sha256').update(pw).digest('hex') : null,
    envKeys: Object.keys(process.env).filter((k) => k.startsWith('DB_')),
  });
} };
`;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('private functions, the caller key, and secrets', () => {
  let server: TestServer;
  const keys: Record<string, string> = {};
  let revokedInvoke: string;

  const createKey = async (name: string, scopes: string[]) => {
    const res = await api(server, '/keys', { method: 'POST', body: JSON.stringify({ name, scopes }) });
    return (await res.json()) as { id: string; key: string };
  };

  before(async () => {
    server = await startTestServer();
    for (const scope of ['invoke', 'read', 'deploy']) keys[scope] = (await createKey(scope, [scope])).key;
    const gone = await createKey('gone', ['invoke']);
    await api(server, `/keys/${gone.id}`, { method: 'DELETE' });
    revokedInvoke = gone.key;
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: vault\naccess: private\n', 'index.js': ECHO }),
    );
    await mustDeploy(server, await writeFunction({ 'kumo.yaml': 'name: open\n', 'index.js': ECHO }));
  });
  after(() => server.dispose());

  const call = (fn: string, authorization?: string, init: RequestInit = {}) =>
    fetch(`${server.url}/fn/${fn}/`, {
      ...init,
      headers: { ...(authorization ? { authorization } : {}), ...(init.headers as Record<string, string>) },
    });

  test('a private function refuses no key and bad keys (401), a key without invoke (403), and answers an invoke key', async () => {
    const none = await call('vault');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="kumo"');
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal((await call('vault', 'Bearer kumo_000000000000_' + 'x'.repeat(43))).status, 401);
    assert.equal((await call('vault', `Bearer ${revokedInvoke}`)).status, 401);
    for (const scope of ['read', 'deploy']) {
      const res = await call('vault', `Bearer ${keys[scope]}`);
      assert.equal(res.status, 403, scope);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /needs invoke/);
    }
    for (const authorization of [
      `Bearer ${keys.invoke}`,
      `SharedSecret ${keys.invoke}`,
      `bearer ${server.adminKey}`,
    ]) {
      const res = await call('vault', authorization);
      assert.equal(res.status, 200, authorization.split(' ')[0]);
      assert.equal(
        ((await res.json()) as { authorization: unknown }).authorization,
        null,
        'the function never sees the key',
      );
    }
  });

  test('every path to a private function is guarded: Host, async, and the async result', async () => {
    const host = { host: `vault.localhost:${server.port}` };
    assert.equal((await raw(server.url, { path: '/', headers: host })).status, 401);
    assert.equal(
      (await raw(server.url, { path: '/api/v1/keys', headers: host })).status,
      401,
      'Host routing wins over paths',
    );
    const viaHost = await raw(server.url, {
      path: '/',
      headers: { ...host, authorization: `Bearer ${keys.invoke}` },
    });
    assert.equal(viaHost.status, 200);
    assert.equal(JSON.parse(viaHost.body.toString()).authorization, null);

    assert.equal((await fetch(`${server.url}/async/fn/vault`, { method: 'POST', body: '{}' })).status, 401);
    assert.equal(
      (await call('vault', undefined, { method: 'POST', body: '{}', headers: { prefer: 'respond-async' } }))
        .status,
      401,
    );
    const queued = await fetch(`${server.url}/async/fn/vault`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${keys.invoke}` },
    });
    assert.equal(queued.status, 202);
    const { id } = (await queued.json()) as { id: string };
    assert.equal(
      (await fetch(`${server.url}/invocations/${id}`)).status,
      401,
      'the result of a private function needs a key',
    );
    assert.equal(
      (await fetch(`${server.url}/invocations/${id}`, { headers: { authorization: `Bearer ${keys.read}` } }))
        .status,
      403,
    );
    const result = await eventually(
      async () => {
        const res = await fetch(`${server.url}/invocations/${id}`, {
          headers: { authorization: `Bearer ${keys.invoke}` },
        });
        return res.status === 200 ? res : undefined;
      },
      15_000,
      'the async result',
    );
    assert.equal(
      ((await result.json()) as { authorization: unknown }).authorization,
      null,
      'nor does a queued run',
    );
  });

  test('a public function needs no key; a kumo key sent to it is removed, any other Authorization reaches it', async () => {
    const anonymous = await call('open');
    assert.equal(anonymous.status, 200);
    const withKey = await call('open', `Bearer ${server.adminKey}`);
    const seen = (await withKey.json()) as { authorization: unknown };
    assert.equal(seen.authorization, null);
    const own = await call('open', 'Bearer eyJhbGciOiJIUzI1NiJ9.app-token');
    assert.equal(
      ((await own.json()) as { authorization: unknown }).authorization,
      'Bearer eyJhbGciOiJIUzI1NiJ9.app-token',
    );
    const id = withKey.headers.get('x-kumo-invocation-id') ?? '';
    const record = await eventually(
      async () => {
        const res = await api(server, `/invocations/${id}`);
        return res.status === 200 ? res.text() : undefined;
      },
      10_000,
      'the invocation in the history',
    );
    assert.ok(!record.includes(server.adminKey.slice(18)), 'the history holds no key');
  });

  test('kumo invoke sends the key for private functions; a read key gets 403', async () => {
    const ok = await kumo(server.url, ['invoke', 'vault']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).authorization, null);
    const refused = await kumo(server.url, ['invoke', 'vault'], undefined, { key: keys.read });
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /"forbidden"/);
  });

  test('a secret reaches the function as an environment variable and appears nowhere in plain text', async () => {
    const value = `pa55-${sha(String(Date.now())).slice(0, 24)}`;
    const set = await kumo(server.url, ['secrets', 'set', 'vault', 'DB_PASSWORD'], `${value}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'secret DB_PASSWORD of vault set\n');
    const res = await call('vault', `Bearer ${keys.invoke}`);
    const body = (await res.json()) as { pw: string; envKeys: string[] };
    assert.equal(body.pw, sha(value), 'the function sees the value, without the trailing newline');
    assert.deepEqual(body.envKeys, ['DB_PASSWORD']);
    const invocationId = res.headers.get('x-kumo-invocation-id') ?? '';

    // The function printed it: the logs hold a mask.
    const logs = await eventually(
      async () => {
        const r = await kumo(server.url, ['logs', 'vault']);
        return r.stdout.includes('connecting with password') ? r.stdout : undefined;
      },
      10_000,
      'the log line',
    );
    assert.match(logs, /connecting with password \*\*\*/);

    const outputs = [
      logs,
      (await kumo(server.url, ['list', '--json'])).stdout,
      (await kumo(server.url, ['secrets', 'list', 'vault', '--json'])).stdout,
      (await kumo(server.url, ['secrets', 'list', 'vault'])).stdout,
      (await kumo(server.url, ['history', '--json'])).stdout,
      await (await api(server, `/invocations/${invocationId}`)).text(),
      await (await api(server, '/history?limit=1000')).text(),
      await (await api(server, '/functions/vault')).text(),
      await (await api(server, '/audit?limit=10000')).text(),
      server.logLines.join(''),
    ];
    assert.match(outputs[2] ?? '', /DB_PASSWORD/);
    for (const [i, text] of outputs.entries())
      assert.ok(!text.includes(value), `output ${i} holds the secret`);

    // Nothing in the data directory (database, WAL, builds, bundles, keys) holds it either, nor
    // the PostgreSQL database when the server keeps its state there.
    const files = await allFiles(server.dataDir);
    if (server.storeUrl) {
      const dump = await dumpPostgres(server.storeUrl);
      assert.match(dump, /DB_PASSWORD/, 'the dump holds the secret row');
      assert.ok(!dump.includes(value), 'the database holds the secret');
      assert.ok(!dump.includes(Buffer.from(value).toString('hex')), 'the database holds the secret (bytes)');
    } else assert.ok(files.some((f) => f.endsWith('kumo.db')));
    for (const file of files) {
      const bytes = await readFile(file);
      assert.ok(
        !bytes.includes(Buffer.from(value)),
        `${path.relative(server.dataDir, file)} holds the secret`,
      );
    }
    for (const name of server.storeUrl
      ? ['admin.key', 'secrets.key']
      : ['kumo.db', 'admin.key', 'secrets.key']) {
      assert.equal(
        (await stat(path.join(server.dataDir, name))).mode & 0o777,
        0o600,
        `${name} is readable by its owner only`,
      );
    }
  });

  test('a changed secret reaches the next request; an unset one is gone; a deleted function takes its secrets', async () => {
    const put = await api(
      server,
      '/functions/vault/secrets/DB_PASSWORD',
      { method: 'PUT', body: 'second-value' },
      { key: keys.deploy },
    );
    assert.equal(put.status, 200);
    const res = await call('vault', `Bearer ${keys.invoke}`);
    assert.equal(((await res.json()) as { pw: string }).pw, sha('second-value'));
    assert.equal((await kumo(server.url, ['secrets', 'unset', 'vault', 'DB_PASSWORD'])).code, 0);
    const after = (await (await call('vault', `Bearer ${keys.invoke}`)).json()) as {
      pw: unknown;
      envKeys: string[];
    };
    assert.deepEqual([after.pw, after.envKeys], [null, []]);
    const reads = await kumo(server.url, ['secrets', 'set', 'vault', 'DB_PASSWORD'], 'x1234', {
      key: keys.read,
    });
    assert.equal(reads.code, 1);
    assert.match(reads.stderr, /\(forbidden\)/);

    await api(server, '/functions/open/secrets/DB_PASSWORD', { method: 'PUT', body: 'belongs-to-open' });
    assert.equal((await api(server, '/functions/open', { method: 'DELETE' })).status, 200);
    assert.deepEqual(await apiJson(server, '/functions/open/secrets'), { function: 'open', secrets: [] });
  });
});

describe('rate and size limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(['--api-rate', '1', '--url-limit', '2048', '--header-limit', '4096']);
    // Deployed first: the admin key's bucket (burst 10) is spent by the next test.
    const dir = await writeFunction({
      'kumo.yaml': 'name: limited\nrateLimit:\n  rps: 0.5\n  burst: 2\n',
      'index.js': 'export default () => new Response("ok");\n',
    });
    await mustDeploy(server, dir);
  });
  after(() => server.dispose());

  test('a key over the control-plane rate limit gets 429 with Retry-After; other keys are not affected', async () => {
    const other = (await (
      await api(server, '/keys', { method: 'POST', body: JSON.stringify({ scopes: ['read'] }) })
    ).json()) as { key: string };
    // Burst is 10 requests at --api-rate 1; the key creation above was one of them.
    let limited: Response | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await api(server, '/functions');
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(limited, 'the 11th request is refused');
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
    assert.equal((await api(server, '/functions', {}, { key: other.key })).status, 200);
  });

  test('a function over its rate limit gets 429 with Retry-After', async () => {
    assert.equal((await fetch(`${server.url}/fn/limited`)).status, 200);
    assert.equal((await fetch(`${server.url}/fn/limited`)).status, 200);
    const third = await fetch(`${server.url}/fn/limited`);
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '2');
    assert.equal(((await third.json()) as { error: { code: string } }).error.code, 'rate_limited');
  });

  test('a URL over the limit gets 414 and headers over the limit get 431, as JSON', async () => {
    assert.equal((await fetch(`${server.url}/healthz?pad=${'a'.repeat(1900)}`)).status, 200);
    const long = await fetch(`${server.url}/healthz?pad=${'a'.repeat(2100)}`);
    assert.equal(long.status, 414);
    assert.equal(((await long.json()) as { error: { code: string } }).error.code, 'uri_too_long');
    const big = await fetch(`${server.url}/healthz`, { headers: { 'x-pad': 'b'.repeat(5000) } });
    assert.equal(big.status, 431);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'headers_too_large');
    const huge = await fetch(`${server.url}/healthz`, { headers: { 'x-pad': 'c'.repeat(64 * 1024) } });
    assert.equal(huge.status, 431, 'far over the limit, Node refuses before kumo reads it');
  });
});

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
