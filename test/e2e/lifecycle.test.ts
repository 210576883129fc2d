import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  api,
  apiJson,
  useAdminKey,
  spawnKumo,
  type KumoChild,
} from './harness.ts';

/** Every server this file starts, so that a failed assertion cannot leave one running. */
const spawned = new Set<ChildProcess>();
after(() => {
  for (const child of spawned)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `kumo up` on `dataDir` as a real child process; the harness helpers then use its admin key. */
async function startKumo(dataDir: string): Promise<KumoChild> {
  const k = await spawnKumo(['--data', dataDir]);
  spawned.add(k.child);
  await useAdminKey(k.url, dataDir);
  return k;
}

/** Pids of processes whose command line mentions `text` (instances name their build folder). */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('functions, versions and the active version survive a restart and answer without redeploying', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-restart-'));
  try {
    const first = await startKumo(dataDir);
    const dir = await writeFunction({
      'kumo.yaml': 'name: durable\n',
      'index.js': 'export default () => new Response("v1");\n',
    });
    await mustDeploy({ url: first.url }, dir);
    const dir2 = await writeFunction({
      'kumo.yaml': 'name: durable\n',
      'index.js': 'export default () => new Response("v2");\n',
    });
    await mustDeploy({ url: first.url }, dir2);
    await api({ url: first.url }, `/functions/durable/rollback`, { method: 'POST' });
    first.child.kill('SIGTERM');
    assert.equal(await exited(first.child), 0);

    const second = await startKumo(dataDir);
    try {
      const res = await invoke({ url: second.url }, 'durable');
      assert.equal(await res.text(), 'v1', 'the rolled-back version is still active');
      const versions = (await apiJson({ url: second.url }, `/functions/durable/versions`)) as {
        versions: unknown[];
      };
      assert.equal(versions.versions.length, 2);
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('SIGTERM lets in-flight requests finish, refuses new ones and stops instances', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-term-'));
  try {
    const k = await startKumo(dataDir);
    const dir = await writeFunction({
      'kumo.yaml': 'name: lingering\n',
      'index.js':
        'export default { async fetch() { await new Promise((r) => setTimeout(r, 800)); return new Response("finished"); } };\n',
    });
    await mustDeploy({ url: k.url }, dir);
    const inflight = invoke({ url: k.url }, 'lingering');
    await new Promise((r) => setTimeout(r, 200));
    k.child.kill('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'finished');
    assert.equal(await exited(k.child), 0);
    assert.deepEqual(await processesMentioning(dataDir), [], 'no instance process is left');
    await assert.rejects(fetch(`${k.url}/healthz`));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a rollback under load fails no request', async () => {
  const server = await startTestServer();
  try {
    const v1 = await writeFunction({
      'kumo.yaml': 'name: hot\nconcurrency: 8\n',
      'index.js':
        'export default async () => { await new Promise((r) => setTimeout(r, 20)); return new Response("1"); };\n',
    });
    const v2 = await writeFunction({
      'kumo.yaml': 'name: hot\nconcurrency: 8\n',
      'index.js':
        'export default async () => { await new Promise((r) => setTimeout(r, 20)); return new Response("2"); };\n',
    });
    await mustDeploy(server, v1);
    await mustDeploy(server, v2);
    let stop = false;
    const seen: string[] = [];
    const failures: number[] = [];
    const load = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const res = await invoke(server, 'hot');
        if (res.status !== 200) failures.push(res.status);
        seen.push(await res.text());
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    const rb = await api(server, `/functions/hot/rollback`, { method: 'POST' });
    assert.equal(rb.status, 200);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(load);
    assert.deepEqual(failures, []);
    assert.ok(seen.includes('2') && seen.includes('1'), 'served by both versions');
    assert.equal(seen.at(-1), '1', 'new requests go to the rolled-back version');
  } finally {
    await server.dispose();
  }
});

test('min instances are prewarmed and idle instances scale to zero', async () => {
  const server = await startTestServer();
  try {
    const warm = await writeFunction({
      'kumo.yaml': 'name: warm\ninstances:\n  min: 2\n  max: 3\n',
      'index.js': 'export default () => new Response("w");\n',
    });
    const idle = await writeFunction({
      'kumo.yaml': 'name: idler\ninstances:\n  idle: 1s\n',
      'index.js': 'export default () => new Response("i");\n',
    });
    await mustDeploy(server, warm);
    await mustDeploy(server, idle);
    const count = async (name: string) =>
      ((await apiJson(server, `/functions/${name}`)) as { instances: { total: number } }).instances.total;
    await eventually(async () => (await count('warm')) === 2, 10_000, 'two warm instances');
    assert.equal(await (await invoke(server, 'idler')).text(), 'i');
    assert.equal(await count('idler'), 1);
    await eventually(async () => (await count('idler')) === 0, 5_000, 'scale to zero');
    assert.equal(await (await invoke(server, 'idler')).text(), 'i', 'answers again after scaling to zero');
    assert.equal(await count('warm'), 2, 'min instances are kept');
  } finally {
    await server.dispose();
  }
});

test('logs are captured with function, version and invocation id, and --follow streams new lines', async () => {
  const server = await startTestServer();
  try {
    const dir = await writeFunction({
      'kumo.yaml': 'name: chatty\n',
      'index.js': `export default { fetch(req) {
        const word = new URL(req.url).searchParams.get('w');
        console.log('said ' + word);
        console.error('warned ' + word);
        return new Response(word);
      } };\n`,
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'chatty', '/?w=alpha');
    const id = res.headers.get('x-kumo-invocation-id');
    const lines = await eventually(
      async () => {
        const body = (await apiJson(server, `/functions/chatty/logs`)) as {
          lines: { line: string; stream: string; invocationId: string; version: number; function: string }[];
        };
        return body.lines.length >= 2 ? body.lines : undefined;
      },
      5000,
      'log lines',
    );
    const said = lines.find((l) => l.line === 'said alpha');
    assert.ok(said);
    assert.equal(said.stream, 'stdout');
    assert.equal(said.invocationId, id);
    assert.equal(said.version, 1);
    assert.equal(said.function, 'chatty');
    assert.ok(lines.some((l) => l.line === 'warned alpha' && l.stream === 'stderr' && l.invocationId === id));

    const controller = new AbortController();
    const follow = await api(server, `/functions/chatty/logs?follow=1`, { signal: controller.signal });
    const reader = (follow.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    await invoke(server, 'chatty', '/?w=beta');
    while (!text.includes('said beta')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.ok(text.includes('said alpha'), 'stored lines come first');
    assert.ok(text.includes('said beta'), 'live lines follow');
  } finally {
    await server.dispose();
  }
});

test('a deleted function leaves no log lines behind, even ones its instances print while they stop', async () => {
  const server = await startTestServer();
  try {
    // Prints all the time and once more on SIGTERM: lines keep coming while delete stops it.
    const noisy = await writeFunction({
      'kumo.yaml': 'name: noisy\n',
      'index.js': `setInterval(() => console.log('tick'), 2);
        process.on('SIGTERM', () => { for (let i = 0; i < 200; i++) console.log('bye ' + i); process.exit(0); });
        export default { fetch() { return new Response('ok'); } };\n`,
    });
    await mustDeploy(server, noisy);
    assert.equal((await invoke(server, 'noisy')).status, 200);
    await eventually(async () => {
      const body = await apiJson<{ lines: unknown[] }>(server, '/functions/noisy/logs');
      return body.lines.length > 0;
    });
    assert.equal((await api(server, '/functions/noisy', { method: 'DELETE' })).status, 200);
    await new Promise((r) => setTimeout(r, 1000));
    // A new function of the same name must not inherit a line of the old one.
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: noisy\n',
        'index.js': 'export default { fetch() { return new Response("quiet"); } };\n',
      }),
    );
    assert.equal(await (await invoke(server, 'noisy')).text(), 'quiet');
    await new Promise((r) => setTimeout(r, 300));
    const after = await apiJson<{ lines: { line: string }[] }>(server, '/functions/noisy/logs');
    assert.deepEqual(
      after.lines.map((l) => l.line),
      [],
      'no line of the deleted function is kept',
    );
  } finally {
    await server.dispose();
  }
});
