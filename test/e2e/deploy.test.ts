import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { create as createTar } from 'tar';
import {
  deploy,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
  api,
  apiJson,
} from './harness.ts';

const hello = (text: string) =>
  `export default { fetch() { return new Response(${JSON.stringify(text)}); } };\n`;

describe('deploy, versions, rollback and delete', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test('deploys version 1, skips identical content, creates version 2 on change', async () => {
    const dir = await writeFunction({ 'kumo.yaml': 'name: vers\n', 'index.js': hello('one') });
    const first = await deploy(server, dir);
    assert.equal(first.status, 201);
    assert.equal(first.body.version, 1);
    assert.equal(first.body.created, true);
    assert.match(String(first.body.url), /^http:\/\/vers\.localhost:\d+$/);
    assert.equal(await (await invoke(server, 'vers')).text(), 'one');

    const again = await deploy(server, dir);
    assert.equal(again.status, 200);
    assert.equal(again.body.created, false);
    assert.equal(again.body.version, 1);

    await writeFile(path.join(dir, 'index.js'), hello('two'));
    const second = await deploy(server, dir);
    assert.equal(second.status, 201);
    assert.equal(second.body.version, 2);
    assert.equal(await (await invoke(server, 'vers')).text(), 'two');

    const versions = (await apiJson(server, `/functions/vers/versions`)) as {
      activeVersion: number;
      versions: { version: number; active: boolean; hash: string }[];
    };
    assert.equal(versions.activeVersion, 2);
    assert.deepEqual(
      versions.versions.map((v) => [v.version, v.active]),
      [
        [1, false],
        [2, true],
      ],
    );
    assert.notEqual(versions.versions[0]?.hash, versions.versions[1]?.hash);

    const rb = await api(server, `/functions/vers/rollback`, { method: 'POST' });
    assert.deepEqual(await rb.json(), { function: 'vers', from: 2, to: 1 });
    assert.equal(await (await invoke(server, 'vers')).text(), 'one');
    const fwd = await api(server, `/functions/vers/rollback`, {
      method: 'POST',
      body: JSON.stringify({ to: 2 }),
    });
    assert.equal(fwd.status, 200);
    assert.equal(await (await invoke(server, 'vers')).text(), 'two');

    const missing = await api(server, `/functions/vers/rollback`, {
      method: 'POST',
      body: JSON.stringify({ to: 9 }),
    });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'version_not_found');
    const same = await api(server, `/functions/vers/rollback`, {
      method: 'POST',
      body: JSON.stringify({ to: 2 }),
    });
    assert.equal(same.status, 409);

    const del = await api(server, `/functions/vers`, { method: 'DELETE' });
    assert.deepEqual(await del.json(), { deleted: 'vers' });
    const gone = await invoke(server, 'vers');
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { error: { code: string } }).error.code, 'function_not_found');
  });

  test('a failed build leaves the previous version serving and returns the build log', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: broken\n',
      'index.ts': 'export default { fetch() { return new Response("ok"); } };\n',
    });
    await mustDeploy(server, dir);
    await writeFile(path.join(dir, 'index.ts'), 'export default { fetch( { return new Response("ok") } ;\n');
    const res = await deploy(server, dir);
    assert.equal(res.status, 422);
    const error = res.body.error as { code: string; details: { log: string } };
    assert.equal(error.code, 'build_failed');
    assert.match(error.details.log, /index\.ts/);
    assert.equal(await (await invoke(server, 'broken')).text(), 'ok');
    const versions = (await apiJson(server, `/functions/broken/versions`)) as { versions: unknown[] };
    assert.equal(versions.versions.length, 1, 'no version was recorded for the failed build');
  });

  test('an unknown handler export is refused with unknown_handler and nothing stored', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: noexport\n',
      'index.js': 'export const notAHandler = 1;\n',
    });
    const res = await deploy(server, dir);
    assert.equal(res.status, 400);
    assert.equal((res.body.error as { code: string }).code, 'unknown_handler');
    assert.equal((await api(server, `/functions/noexport`)).status, 404);
  });

  test('a missing handler file is refused with unknown_handler', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: nofile\nhandler: missing.js\n',
      'index.js': hello('x'),
    });
    const res = await deploy(server, dir);
    assert.equal(res.status, 400);
    assert.equal((res.body.error as { code: string }).code, 'unknown_handler');
  });

  test('invalid manifests are refused naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['name: m1\nmemory: 10000\n', /"memory" must be between 64 and 4096 .*got 10000/],
      ['name: m2\ntimeout: forever\n', /"timeout" must be a duration/],
      ['name: m3\ninstances:\n  min: 5\n  max: 2\n', /"instances" min must not be greater than max/],
      ['name: m4\nbogus: 1\n', /unknown field "bogus"/],
      ['name: m5\nruntime: cobol\n', /"runtime" must be one of/],
      ['name: [oops\n', /not valid YAML/],
      ['name: m7\nenv:\n  "1BAD": x\n', /"env.1BAD" keys must be environment variable names/],
    ];
    for (const [yaml, pattern] of cases) {
      const dir = await writeFunction({ 'kumo.yaml': yaml, 'index.js': hello('x') });
      const res = await deploy(server, dir);
      assert.equal(res.status, 400, yaml);
      const error = res.body.error as { code: string; message: string };
      assert.equal(error.code, 'invalid_manifest', yaml);
      assert.match(error.message, pattern, yaml);
    }
    const list = (await apiJson(server, `/functions`)) as { functions: { name: string }[] };
    assert.ok(!list.functions.some((f) => /^m\d$/.test(f.name)), 'nothing was stored');
  });

  test('names that are not DNS labels are refused', async () => {
    for (const name of ['Upper', '-dash', 'under_score', 'a'.repeat(64)]) {
      const dir = await writeFunction({ 'index.js': hello('x') });
      const res = await deploy(server, dir, `name=${encodeURIComponent(name)}`);
      assert.equal(res.status, 400, name);
      assert.match((res.body.error as { code: string }).code, /invalid_name|invalid_manifest/, name);
    }
  });

  test('flags override the manifest: name, memory, timeout and env', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: fromfile\nenv:\n  A: file\n  B: file\n',
      'index.js': 'export default { fetch(req, env) { return Response.json(env); } };\n',
    });
    const body = await mustDeploy(server, dir, 'name=fromflag&memory=128&timeout=5s&env=B=flag&env=C=new');
    assert.equal(body.function, 'fromflag');
    assert.deepEqual(await (await invoke(server, 'fromflag')).json(), { A: 'file', B: 'flag', C: 'new' });
    const info = (await apiJson(server, `/functions/fromflag`)) as {
      spec: { memory: number; timeout: number };
    };
    assert.equal(info.spec.memory, 128);
    assert.equal(info.spec.timeout, 5000);
  });

  test('archives with .. paths, absolute paths or escaping symlinks are refused', async () => {
    const evil = async (
      build: (dir: string) => Promise<string[]>,
      opts: { preservePaths?: boolean } = {},
    ) => {
      const dir = await writeFunction({ 'index.js': hello('x') });
      const entries = await build(dir);
      const chunks: Buffer[] = [];
      for await (const c of createTar(
        { gzip: true, cwd: dir, preservePaths: opts.preservePaths ?? false },
        entries,
      ) as AsyncIterable<Buffer>) {
        chunks.push(c);
      }
      return api(server, `/functions?name=evil`, { method: 'POST', body: Buffer.concat(chunks) });
    };
    const dotdot = await evil(async () => ['index.js', '../../etc/hostname'], { preservePaths: true });
    const absolute = await evil(async () => ['index.js', '/etc/hostname'], { preservePaths: true });
    const link = await evil(async (dir) => {
      await symlink('../../../etc/shadow', path.join(dir, 'leak'));
      return ['index.js', 'leak'];
    });
    for (const res of [dotdot, absolute, link]) {
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_archive');
    }
    const garbage = await api(server, `/functions?name=evil`, { method: 'POST', body: 'not a tarball' });
    assert.equal(garbage.status, 400);
    assert.equal((await api(server, `/functions/evil`)).status, 404);
  });

  test('uploads over the limit get 413 and the server stays healthy', async () => {
    const small = await startTestServer(['--upload-limit', '1']);
    try {
      const res = await api(small, `/functions?name=big`, {
        method: 'POST',
        body: Buffer.alloc(2 * 1024 * 1024, 1),
      });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'payload_too_large');
      assert.equal((await fetch(`${small.url}/healthz`)).status, 200);
    } finally {
      await small.dispose();
    }
  });

  test('a TypeScript function with a local file: dependency builds offline', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: tsdeps\n',
      'package.json': JSON.stringify({
        name: 'tsdeps',
        private: true,
        dependencies: { shout: 'file:./vendor/shout' },
      }),
      'vendor/shout/package.json': JSON.stringify({ name: 'shout', version: '1.0.0', main: 'index.js' }),
      'vendor/shout/index.js': 'module.exports = (s) => s.toUpperCase() + "!";\n',
      'index.ts': [
        "import shout from 'shout';",
        'const greet = (name: string): string => shout(`hi ${name}`);',
        'export default { fetch: (req: Request): Response => new Response(greet(new URL(req.url).searchParams.get("n") ?? "x")) };',
        '',
      ].join('\n'),
    });
    await mustDeploy(server, dir);
    assert.equal(await (await invoke(server, 'tsdeps', '/?n=ts')).text(), 'HI TS!');
  });
});

test('identical archives deployed at once under several names all deploy (one stored bundle, no clash)', async () => {
  const server = await startTestServer(['--deploy-concurrency', '8']);
  try {
    const dir = await writeFunction({
      'kumo.yaml': 'name: same\nruntime: node\nhandler: index.handler\n',
      'index.js': 'export async function handler() { return "same"; }\n',
      // Big enough that writing the stored copy takes a while, as it did for the deploys that clashed.
      'pad.bin': randomBytes(4 * 1024 * 1024),
    });
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        [1, 2, 3, 4].map((i) => deploy(server, dir, `name=same-${round}-${i}`)),
      );
      for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  } finally {
    await server.dispose();
  }
});
