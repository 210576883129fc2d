/**
 * Builds run in the sandbox (issue 11): their limits hold with a clear build error, they have no
 * network unless `kumo up --build-allow` lists a host (and then only that one, through kumo's
 * proxy), functions see neutral paths, and a version's code is identified by its content.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  api,
  deploy,
  invoke,
  mustDeploy,
  ROOT,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

/**
 * A node bundle whose npm install runs `script` (npm's `git` setting pointing at a file of the
 * bundle, and a git dependency): the one way a tenant gets its own code run during a build.
 */
function bundleRunning(script: string, manifest = ''): Promise<string> {
  return writeFunction({
    'index.js': 'export default () => new Response("ok");\n',
    '.npmrc': 'git=./hook.sh\n',
    'hook.sh': `#!/bin/sh\n${script}\n`,
    'package.json': JSON.stringify({
      name: 'x',
      version: '1.0.0',
      dependencies: { dep: 'git+https://kumo.invalid/x.git' },
    }),
    'kumo.yaml': manifest,
  }).then(async (dir) => {
    const { chmod } = await import('node:fs/promises');
    await chmod(path.join(dir, 'hook.sh'), 0o755);
    return dir;
  });
}

/** A node one-liner run by the build hook (the build sees kumo's Node at /opt/kumo/node). */
const NODE = '/opt/kumo/node/bin/node';

/** A loopback HTTP server answering "reached"; stands for a registry. */
async function registry(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('reached'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a build hook prints after trying to GET `url` (directly, or through the build's proxy when set). */
function fetchScript(url: string): string {
  const code = `const p=process.env.http_proxy;const u=new URL(${JSON.stringify(url)});const o=p?{host:'127.0.0.1',port:new URL(p).port,path:u.href}:{host:u.hostname,port:u.port,path:u.pathname};require('http').get(o,r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>{console.error('NET '+r.statusCode+' '+b.split('\\\\n')[0]);process.exit(1)})}).on('error',e=>{console.error('NET blocked '+e.code);process.exit(1)})`;
  return `${NODE} -e "${code.replace(/"/g, '\\"')}"`;
}

/** The build log of a failed deploy. */
function logOf(body: Record<string, unknown>): string {
  const err = body.error as { details?: { log?: string }; message?: string } | undefined;
  return `${err?.message ?? ''}\n${err?.details?.log ?? ''}`;
}

describe('builds in the sandbox', () => {
  let server: TestServer;
  let reg: { port: number; close(): Promise<void> };

  before(async () => {
    reg = await registry();
    server = await startTestServer([
      '--build-timeout',
      '60',
      '--build-memory',
      '512',
      '--keep-versions',
      '1',
    ]);
  });
  after(async () => {
    await server.dispose();
    await reg.close();
  });

  test('a build past build.timeout fails with build_failed naming the limit, and the server is fine', async () => {
    const dir = await bundleRunning('sleep 30', 'build:\n  timeout: 2s\n');
    const began = Date.now();
    const { status, body } = await deploy(server, dir, 'name=slow-build');
    assert.equal(status, 422, JSON.stringify(body));
    assert.equal((body.error as { code: string }).code, 'build_failed');
    assert.match(logOf(body), /longer than its 2 s limit \(build\.timeout\)/);
    assert.ok(Date.now() - began < 15_000, 'the build was stopped at its limit');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('a build past build.memory fails with build_failed naming the limit', async () => {
    const hog = `${NODE} -e "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"`;
    const dir = await bundleRunning(hog, 'build:\n  memory: 96\n');
    const { status, body } = await deploy(server, dir, 'name=hungry-build');
    assert.equal(status, 422, JSON.stringify(body));
    assert.match(logOf(body), /ran out of memory: it may use 96 MB \(build\.memory\)/);
  });

  test('a bundle larger than build.disk fails with build_failed naming the limit', async () => {
    const dir = await writeFunction({
      'index.js': 'export default () => new Response("ok");\n',
      'big.bin': Buffer.alloc(3 * 1024 * 1024, 7),
      'kumo.yaml': 'build:\n  disk: 1\n',
    });
    const { status, body } = await deploy(server, dir, 'name=big-build');
    assert.equal(status, 422, JSON.stringify(body));
    assert.match(logOf(body), /build\.disk/);
  });

  test('a manifest asking for more than the server allows is refused naming the ceiling', async () => {
    const dir = await writeFunction({
      'index.js': 'export default () => new Response("ok");\n',
      'kumo.yaml': 'build:\n  memory: 4096\n',
    });
    const { status, body } = await deploy(server, dir, 'name=greedy-build');
    assert.equal(status, 400);
    assert.match((body.error as { message: string }).message, /"build\.memory" may be at most 512 MB/);
  });

  test('a build has no network by default: a loopback registry of the host is unreachable', async () => {
    const dir = await bundleRunning(fetchScript(`http://127.0.0.1:${reg.port}/`));
    const { status, body } = await deploy(server, dir, 'name=offline-build');
    assert.equal(status, 422);
    assert.match(logOf(body), /NET blocked/);
    assert.doesNotMatch(logOf(body), /reached/);
  });

  test('a function sees neutral paths: its code at /var/task, nothing of the host layout', async () => {
    const dir = await writeFunction({
      'index.js': `import { readdirSync } from 'node:fs';
export default () => Response.json({
  root: process.env.LAMBDA_TASK_ROOT, cwd: process.cwd(),
  ls: Object.fromEntries(['/', '/var', '/var/task', '/opt', '/opt/kumo', '/run', '/tmp'].map((d) => { try { return [d, readdirSync(d)]; } catch (e) { return [d, e.code]; } })),
});
`,
    });
    await mustDeploy(server, dir, 'name=where-am-i');
    const seen = (await (await invoke(server, 'where-am-i')).json()) as {
      root: string;
      cwd: string;
      ls: Record<string, unknown>;
    };
    assert.equal(seen.root, '/var/task');
    assert.equal(seen.cwd, '/var/task');
    assert.deepEqual(seen.ls['/var/task'], ['index.js']);
    const text = JSON.stringify(seen);
    for (const hostPath of [server.dataDir, ROOT.replace(/\/$/, ''), path.basename(server.dataDir)])
      assert.ok(!text.includes(hostPath), `the function sees ${hostPath}: ${text}`);
    assert.ok(!text.includes('where-am-i') && !text.includes('slow-build'), 'no function names');
  });

  test('delete and redeploy under the same name serves the new code; old builds are pruned', async () => {
    const one = await writeFunction({ 'index.js': 'export default () => new Response("one");\n' });
    const two = await writeFunction({ 'index.js': 'export default () => new Response("two");\n' });
    const three = await writeFunction({ 'index.js': 'export default () => new Response("three");\n' });
    await mustDeploy(server, one, 'name=same-name');
    assert.equal(await (await invoke(server, 'same-name')).text(), 'one');
    assert.equal((await api(server, '/functions/same-name', { method: 'DELETE' })).status, 200);
    await mustDeploy(server, two, 'name=same-name');
    assert.equal(await (await invoke(server, 'same-name')).text(), 'two');
    // --keep-versions 1: the active version and its rollback target stay, older ones go with their builds.
    await mustDeploy(server, three, 'name=same-name');
    await mustDeploy(server, one, 'name=same-name');
    const versions = (await (await api(server, '/functions/same-name/versions')).json()) as {
      versions: { version: number }[];
    };
    assert.equal(versions.versions.length, 2, JSON.stringify(versions));
    const builds = await readdir(path.join(server.dataDir, 'builds'));
    const inUse = new Set<string>();
    for (const fn of ['where-am-i', 'same-name']) {
      const list = (await (await api(server, `/functions/${fn}/versions`)).json()) as {
        versions: { hash: string }[];
      };
      for (const v of list.versions) inUse.add(v.hash);
    }
    assert.deepEqual(builds.sort(), [...inUse].sort(), 'only the builds of kept versions are on disk');
  });
});

test('with --build-allow a build reaches exactly the listed host:port through kumo, nothing else', async () => {
  const allowed = await registry();
  const other = await registry();
  const server = await startTestServer(['--build-allow', `127.0.0.1:${allowed.port}`]);
  try {
    const yes = await deploy(
      server,
      await bundleRunning(fetchScript(`http://127.0.0.1:${allowed.port}/`)),
      'name=allowed-build',
    );
    assert.match(logOf(yes.body), /NET 200 reached/);
    const no = await deploy(
      server,
      await bundleRunning(fetchScript(`http://127.0.0.1:${other.port}/`)),
      'name=denied-build',
    );
    assert.match(logOf(no.body), /NET 403 kumo: builds may reach only/);
    assert.ok(server.logLines.some((l) => l.includes('build proxy refused a connection')));
  } finally {
    await server.dispose();
    await allowed.close();
    await other.close();
  }
});

test('with the data directory under a 0700 folder, a redeploy after delete serves the new code and leaves no staged copy', async () => {
  const { mkdtemp, mkdir, chmod, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const parent = await mkdtemp(path.join(os.tmpdir(), 'kumo-private-'));
  await chmod(parent, 0o700);
  await mkdir(path.join(parent, 'data'));
  const server = await startTestServer([], path.join(parent, 'data'));
  try {
    const one = await writeFunction({ 'index.js': 'export default () => new Response("one");\n' });
    const two = await writeFunction({ 'index.js': 'export default () => new Response("two");\n' });
    await mustDeploy(server, one, 'name=private-fn');
    assert.equal(await (await invoke(server, 'private-fn')).text(), 'one');
    const staged = async () => {
      const dirs = (await readdir(os.tmpdir())).filter((d) => d.startsWith(`kumo-stage-${process.pid}-`));
      const entries = await Promise.all(dirs.map((d) => readdir(path.join(os.tmpdir(), d))));
      return entries.flat().length;
    };
    const before = await staged();
    assert.equal((await api(server, '/functions/private-fn', { method: 'DELETE' })).status, 200);
    assert.ok((await staged()) < before, 'the staged copy of the deleted build is gone');
    await mustDeploy(server, two, 'name=private-fn');
    assert.equal(await (await invoke(server, 'private-fn')).text(), 'two');
  } finally {
    await server.dispose();
    await rm(parent, { recursive: true, force: true });
  }
});
