import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, kumo, ROOT, startTestServer, writeFunction, type TestServer } from './harness.ts';

describe('the kumo CLI, as the README walkthrough types it', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test('deploy prints the three steps and the URLs, then the function answers', async () => {
    const res = await kumo(server.url, ['deploy', './examples/greet', '--name', 'greet']);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^\[1\/3\] Packaging greet \(\d+ files?, [\d.]+ (B|kB)\)\.\.\. done$/);
    assert.equal(lines[1], '[2/3] Building version 1... done');
    assert.equal(lines[2], '[3/3] Starting... done');
    assert.equal(
      lines[3],
      `greet is live at http://greet.localhost:${server.port} (also http://localhost:${server.port}/fn/greet)`,
    );

    // As `curl -H 'Host: greet.localhost:PORT' 'http://127.0.0.1:PORT/?name=World'` (fetch cannot set Host).
    const byHost = await new Promise<string>((resolve, reject) => {
      const headers = { host: `greet.localhost:${server.port}` };
      http
        .get({ host: '127.0.0.1', port: server.port, path: '/?name=World', headers }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    assert.deepEqual(JSON.parse(byHost), { message: 'Hello, World!' });

    const invoked = await kumo(server.url, ['invoke', 'greet', '--data', '{"name":"World"}']);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), { message: 'Hello, World!' });

    const again = await kumo(server.url, ['deploy', './examples/greet', '--name', 'greet']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /greet is unchanged: version 1 is already active/);
  });

  test('list, versions, rollback, logs and delete', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: cycle\n',
      'index.js': 'export default () => { console.log("ran v1"); return new Response("1"); };\n',
    });
    assert.equal((await kumo(server.url, ['deploy', dir])).code, 0);
    await writeFile(
      path.join(dir, 'index.js'),
      'export default () => { console.log("ran v2"); return new Response("2"); };\n',
    );
    assert.equal((await kumo(server.url, ['deploy', dir])).code, 0);

    const list = await kumo(server.url, ['list', '--json']);
    const fns = JSON.parse(list.stdout) as { functions: { name: string; activeVersion: number }[] };
    assert.equal(fns.functions.find((f) => f.name === 'cycle')?.activeVersion, 2);
    const table = await kumo(server.url, ['list']);
    assert.match(table.stdout, /^NAME\s+VERSION/m);
    assert.match(table.stdout, /^cycle\s+2\s/m);

    const versions = await kumo(server.url, ['versions', 'cycle']);
    assert.equal(versions.code, 0);
    assert.match(versions.stdout, /^1\s/m);
    assert.match(versions.stdout, /^2\s.*\*/m);

    const rb = await kumo(server.url, ['rollback', 'cycle']);
    assert.equal(rb.stdout.trim(), 'cycle rolled back from version 2 to 1');
    assert.equal((await kumo(server.url, ['invoke', 'cycle'])).stdout, '1');
    const to = await kumo(server.url, ['rollback', 'cycle', '--to', '2']);
    assert.equal(to.stdout.trim(), 'cycle rolled back from version 1 to 2');
    assert.equal((await kumo(server.url, ['invoke', 'cycle'])).stdout, '2');

    const logs = await eventually(
      async () => {
        const r = await kumo(server.url, ['logs', 'cycle']);
        return r.stdout.includes('ran v2') ? r.stdout : undefined;
      },
      5000,
      'logs',
    );
    assert.match(logs, /ran v1/);
    assert.match(logs, /\[v2 [0-9a-f]{8}\] stdout: ran v2/);

    const del = await kumo(server.url, ['delete', 'cycle', '--yes']);
    assert.equal(del.stdout.trim(), 'cycle deleted');
    const gone = await kumo(server.url, ['versions', 'cycle']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no function named 'cycle'/);
  });

  test('failures exit non-zero with a one-line reason; --help works everywhere', async () => {
    const bad = await writeFunction({
      'kumo.yaml': 'name: bad\nmemory: 1\n',
      'index.js': 'export default () => new Response("x");\n',
    });
    const res = await kumo(server.url, ['deploy', bad]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /"memory" must be between 64 and 4096/);
    assert.equal(res.stderr.trim().split('\n').length, 1);

    const down = await kumo('http://127.0.0.1:1', ['list']);
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /not running|cannot reach|could not connect/i);

    for (const cmd of ['deploy', 'invoke', 'list', 'logs', 'versions', 'rollback', 'delete', 'up']) {
      const help = await kumo(server.url, [cmd, '--help']);
      assert.equal(help.code, 0, cmd);
      assert.match(help.stdout, /Usage: kumo/, cmd);
    }
    const unknown = await kumo(server.url, ['frobnicate']);
    assert.equal(unknown.code, 2);
  });

  test('a failed build prints the build log and exits 1', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: tsfail\n',
      'index.ts': 'export default { fetch( { ;\n',
    });
    const res = await kumo(server.url, ['deploy', dir]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /build_failed|build failed/i);
    assert.match(res.stderr, /index\.ts/);
  });

  test('npx kumo from the repository root runs on the pinned Node 24 even when the system node is older', async () => {
    const PATH = (process.env.PATH ?? '')
      .split(':')
      .filter((p) => !p.includes('node_modules'))
      .join(':');
    const res = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('npx', ['--no-install', 'kumo', '--version'], {
        cwd: ROOT,
        env: { ...process.env, PATH },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    // bin/kumo.js refuses to run on Node < 24, so a zero exit proves the pinned Node ran it.
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /\d+\.\d+\.\d+/);
  });
});
