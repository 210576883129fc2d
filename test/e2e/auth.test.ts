/**
 * Access control of the control plane, route by route: every route the server has (as it lists
 * them itself in GET /api/v1/scopes, so a route added later is covered too) is tried with no key, a
 * malformed key, an unknown key, a revoked key and each key lacking the scope: 401 or 403, and
 * nothing changed. Then each key holding the scope gets past the door.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  mustDeploy,
  startTestServer,
  tarball,
  writeFunction,
  type TestServer,
} from './harness.ts';

interface RouteAccess {
  method: string;
  path: string;
  scope: string;
  summary: string;
}

const SCOPES = ['admin', 'deploy', 'invoke', 'read'] as const;
type Scope = (typeof SCOPES)[number];

/** A key as POST /keys answers. */
interface Created {
  id: string;
  key: string;
}

describe('control plane: every route refuses a missing, wrong, revoked or under-scoped key', () => {
  let server: TestServer;
  let fnDir: string;
  const keys = {} as Record<Scope, Created>;
  let revoked: Created;
  let spareAdmin: Created;
  let scheduleId: string | undefined;

  const createKey = async (name: string, scopes: string[]): Promise<Created> => {
    const res = await api(server, '/keys', { method: 'POST', body: JSON.stringify({ name, scopes }) });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as Created;
  };

  before(async () => {
    server = await startTestServer();
    for (const scope of SCOPES) keys[scope] = await createKey(`${scope}-key`, [scope]);
    spareAdmin = await createKey('spare-admin', ['admin']);
    revoked = await createKey('gone', ['admin']);
    assert.equal((await api(server, `/keys/${revoked.id}`, { method: 'DELETE' })).status, 200);
    fnDir = await writeFunction({
      'kumo.yaml': 'name: target\n',
      'index.js': 'export default { fetch() { return new Response("v1"); } };\n',
    });
    await mustDeploy(server, fnDir);
    await writeFile(
      path.join(fnDir, 'index.js'),
      'export default { fetch() { return new Response("v2"); } };\n',
    );
    await mustDeploy(server, fnDir);
    const secret = await api(server, '/functions/target/secrets/API_TOKEN', {
      method: 'PUT',
      body: 'tok-original',
    });
    assert.equal(secret.status, 201);
    const schedule = await api(server, '/functions/target/schedules', {
      method: 'POST',
      body: JSON.stringify({ cron: '0 0 1 1 *' }),
    });
    if (schedule.status === 201) scheduleId = ((await schedule.json()) as { id: string }).id;
    // A further change a refused request could have made.
    await writeFile(
      path.join(fnDir, 'index.js'),
      'export default { fetch() { return new Response("v3"); } };\n',
    );
  });
  after(() => server.dispose());

  /** Everything a control-plane request could change. */
  const snapshot = async () => {
    const fns = await apiJson<{
      functions: { name: string; activeVersion: number; versions: number; spec: unknown }[];
    }>(server, '/functions');
    const keyList = await apiJson<{
      keys: { id: string; name: string; scopes: string[]; revokedAt: number | null }[];
    }>(server, '/keys');
    const schedules = await api(server, '/schedules');
    return {
      functions: fns.functions.map((f) => ({
        name: f.name,
        active: f.activeVersion,
        versions: f.versions,
        spec: f.spec,
      })),
      keys: keyList.keys.map((k) => ({ id: k.id, name: k.name, scopes: k.scopes, revokedAt: k.revokedAt })),
      secrets: await apiJson(server, '/functions/target/secrets'),
      schedules: schedules.status === 200 ? await schedules.json() : schedules.status,
    };
  };

  /** The guarded routes, as the server lists them. */
  const guardedRoutes = async (): Promise<RouteAccess[]> => {
    const { routes } = await apiJson<{ routes: RouteAccess[] }>(server, '/scopes');
    return routes.filter((r) => r.scope === 'any' || (SCOPES as readonly string[]).includes(r.scope));
  };

  /** A path of `route` with its parameters filled in: real targets, or ones that exist nowhere. */
  const fill = (route: string, real: boolean) =>
    route
      .replace(':name', real ? 'target' : 'ghost-fn')
      .replace(':secret', real ? 'API_TOKEN' : 'not-a-variable-name')
      .replace(/^\/api\/v1\/keys\/:id$/, real ? `/api/v1/keys/${spareAdmin.id}` : '/api/v1/keys/000000000000')
      .replace(/schedules\/:id$/, `schedules/${real && scheduleId ? scheduleId : 'no-such-schedule'}`)
      .replace(':id', '00000000-0000-4000-8000-000000000000');

  /** A request body that would change something if the request were let through. */
  const bodyFor = async (method: string, route: string, real: boolean): Promise<RequestInit['body']> => {
    if (method === 'GET' || method === 'DELETE') return undefined;
    if (route === '/api/v1/functions') return real ? new Uint8Array(await tarball(fnDir)) : '';
    if (route === '/api/v1/keys')
      return real ? JSON.stringify({ name: 'intruder', scopes: ['admin'] }) : '{}';
    if (route.endsWith('/schedules')) return JSON.stringify(real ? { cron: '* * * * *' } : {});
    if (route.includes('/secrets/')) return 'tok-changed';
    return '{}';
  };

  const request = async (r: RouteAccess, authorization: string | undefined, real: boolean) => {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    const body = await bodyFor(r.method, r.path, real);
    const res = await fetch(`${server.url}${fill(r.path, real)}`, {
      method: r.method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    return { status: res.status, text, challenge: res.headers.get('www-authenticate') };
  };

  test('the server lists its routes, each declared with what it needs and a summary', async () => {
    const all = (await apiJson<{ routes: RouteAccess[] }>(server, '/scopes')).routes;
    const needs = new Set([...SCOPES, 'any', 'none', 'function', 'result', 'aws']);
    for (const r of all) {
      assert.ok(needs.has(r.scope), `${r.method} ${r.path} needs ${r.scope}`);
      assert.ok(r.summary.length > 0, `${r.method} ${r.path} has a summary`);
    }
    const routes = await guardedRoutes();
    const control = routes.filter((r) => r.path.startsWith('/api/v1/'));
    for (const path of [
      '/api/v1/functions',
      '/api/v1/keys',
      '/api/v1/audit',
      '/api/v1/functions/:name/secrets/:secret',
    ]) {
      assert.ok(
        control.some((r) => r.path === path),
        `${path} is listed`,
      );
    }
    // A path nobody declared runs nothing: no key → 401, any valid key → 404 (405 for a known path).
    const nowhere = await fetch(`${server.url}/api/v1/not-a-route`);
    assert.equal(nowhere.status, 401);
    const unknown = await api(server, '/not-a-route', {}, { key: keys.read.key });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'route_not_found');
    const patch = await api(server, '/functions/target', { method: 'PATCH' }, { key: keys.read.key });
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get('allow'), 'GET, DELETE, HEAD');
  });

  test('no key, a malformed key, an unknown key and a revoked key get 401 on every route; nothing changes', async () => {
    const before = await snapshot();
    const forged = `kumo_${keys.admin.id}_${'A'.repeat(43)}`;
    const credentials: [string, string | undefined][] = [
      ['no key', undefined],
      ['a malformed key', 'Bearer not-a-kumo-key'],
      ['another scheme', `Basic ${Buffer.from(`admin:${keys.admin.key}`).toString('base64')}`],
      ['a forged secret for a real id', `Bearer ${forged}`],
      ['a revoked admin key', `Bearer ${revoked.key}`],
      ['a revoked admin key as SharedSecret', `SharedSecret ${revoked.key}`],
    ];
    let tried = 0;
    for (const r of await guardedRoutes()) {
      for (const [what, authorization] of credentials) {
        const res = await request(r, authorization, true);
        assert.equal(res.status, 401, `${r.method} ${r.path} with ${what}: ${res.text}`);
        assert.equal(JSON.parse(res.text).error.code, 'unauthorized');
        assert.equal(res.challenge, 'Bearer realm="kumo"');
        tried++;
      }
    }
    assert.ok(tried > 100, `tried ${tried} requests`);
    assert.deepEqual(await snapshot(), before);
  });

  test('a key without the scope gets 403 naming the scope needed; nothing changes', async () => {
    const before = await snapshot();
    let tried = 0;
    for (const r of await guardedRoutes()) {
      if (r.scope === 'any') continue;
      for (const scope of SCOPES) {
        if (scope === 'admin' || scope === r.scope) continue;
        for (const scheme of ['Bearer', 'SharedSecret']) {
          const res = await request(r, `${scheme} ${keys[scope].key}`, true);
          assert.equal(res.status, 403, `${r.method} ${r.path} with a ${scope} key: ${res.text}`);
          const error = JSON.parse(res.text).error as { code: string; message: string };
          assert.equal(error.code, 'forbidden');
          assert.match(error.message, new RegExp(`needs ${r.scope}`));
          tried++;
        }
      }
    }
    assert.ok(tried > 50, `tried ${tried} requests`);
    assert.deepEqual(await snapshot(), before);
  });

  test('a key with the scope, and an admin key, get past the door on every route', async () => {
    for (const r of await guardedRoutes()) {
      const allowed: Scope[] =
        r.scope === 'any' ? [...SCOPES] : r.scope === 'admin' ? ['admin'] : ['admin', r.scope as Scope];
      for (const scope of allowed) {
        const res = await request(r, `Bearer ${keys[scope].key}`, false);
        assert.ok(
          res.status !== 401 && res.status !== 403,
          `${r.method} ${r.path} with a ${scope} key: ${res.status} ${res.text}`,
        );
        assert.ok(res.status < 500, `${r.method} ${r.path} with a ${scope} key: ${res.status} ${res.text}`);
      }
    }
  });

  test('whoami names the calling key; the key list never shows a key or its hash', async () => {
    const who = await apiJson<{ id: string; scopes: string[] }>(server, '/whoami', { key: keys.read.key });
    assert.equal(who.id, keys.read.id);
    assert.deepEqual(who.scopes, ['read']);
    const listed = JSON.stringify(await apiJson(server, '/keys'));
    for (const k of [...Object.values(keys), revoked, spareAdmin]) {
      assert.ok(!listed.includes(k.key) && !listed.includes(k.key.slice(18)), 'no key in the listing');
    }
    assert.ok(!listed.includes('"hash"'));
  });

  test('the audit log names the key of every request, refused ones too, and never holds a key', async () => {
    await api(server, '/functions', {}, { key: keys.invoke.key });
    const { entries } = await apiJson<{
      entries: {
        keyId: string | null;
        keyName: string | null;
        method: string;
        path: string;
        status: number;
        outcome: string;
      }[];
    }>(server, '/audit?limit=10000');
    const forbidden = entries.find(
      (e) => e.keyId === keys.invoke.id && e.path === '/api/v1/functions' && e.method === 'GET',
    );
    assert.deepEqual(
      forbidden && { status: forbidden.status, outcome: forbidden.outcome, name: forbidden.keyName },
      { status: 403, outcome: 'forbidden', name: 'invoke-key' },
    );
    assert.ok(
      entries.some((e) => e.keyId === revoked.id && e.outcome === 'unauthorized'),
      'a revoked key is named',
    );
    assert.ok(
      entries.some((e) => e.keyId === null && e.outcome === 'unauthorized'),
      'anonymous attempts are recorded',
    );
    const firstAdmin = server.adminKey.slice(5, 17);
    assert.ok(
      entries.some((e) => e.keyId === firstAdmin && e.outcome === 'ok' && e.status === 201),
      'successes too',
    );
    const text = JSON.stringify(entries);
    for (const k of [...Object.values(keys), revoked, spareAdmin, { key: server.adminKey }]) {
      assert.ok(!text.includes(k.key.slice(18)), 'no key secret in the audit log');
    }
  });

  test('the last admin key cannot be revoked, and a non-admin cannot mint keys', async () => {
    const mint = await api(
      server,
      '/keys',
      { method: 'POST', body: JSON.stringify({ name: 'escalate', scopes: ['admin'] }) },
      { key: keys.deploy.key },
    );
    assert.equal(mint.status, 403);
    const solo = await startTestServer();
    try {
      const who = await apiJson<{ id: string }>(solo, '/whoami');
      const res = await api(solo, `/keys/${who.id}`, { method: 'DELETE' });
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'conflict');
    } finally {
      await solo.dispose();
    }
  });
});
