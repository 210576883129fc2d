import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  apiJson,
  eventually,
  mustDeploy,
  spawnKumo,
  useAdminKey,
  writeFunction,
  type KumoChild,
} from './harness.ts';
import { startReceiver } from './async-helpers.ts';
import { detectCgroupLayout } from '../../src/drivers/process/bwrap/cgroups.ts';

/** Starts `kumo up` on `dataDir` as a real child process; the harness helpers then use its admin key. */
async function startKumo(dataDir: string): Promise<KumoChild> {
  const k = await spawnKumo(['--data', dataDir]);
  await useAdminKey(k.url, dataDir);
  return k;
}

/**
 * Kills what a SIGKILLed server left behind: its instances outlive it (nothing told them to
 * stop), and they name the data directory on their command line.
 */
async function killLeftovers(dataDir: string): Promise<void> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dataDir) && !cmdline.includes(' up ') && !cmdline.includes('\0up\0')) {
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** The temporary folders and instance cgroups named after server `pid`. */
async function leftoversOf(pid: number): Promise<string[]> {
  const found: string[] = [];
  for (const base of [os.tmpdir(), '/dev/shm']) {
    const names = await readdir(base).catch(() => [] as string[]);
    found.push(
      ...names.filter((n) => n.startsWith('kumo-') && n.includes(`-${pid}-`)).map((n) => `${base}/${n}`),
    );
  }
  const layout = await detectCgroupLayout();
  for (const h of layout.hierarchies) {
    const names = await readdir(h.parent).catch(() => [] as string[]);
    found.push(...names.filter((n) => n.startsWith(`k${pid}.`)).map((n) => `${h.parent}/${n}`));
  }
  return found;
}

function exited(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
  );
}

interface Item {
  id: string;
  status: string;
  attempt: number;
}

interface Detail extends Item {
  attempts: { attempt: number; outcome: string | null }[];
}

test('kill -9 with 200 queued and 5 running async invocations: after restart each ends exactly once, only the 5 show a second attempt, every callback arrives', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-crash-'));
  await chmod(dataDir, 0o711);
  const receiver = await startReceiver();
  let first: KumoChild | undefined;
  let second: KumoChild | undefined;
  try {
    first = await startKumo(dataDir);
    const server = { url: first.url };
    // The first attempt of a "slow" invocation outlasts the crash; every other run is quick.
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: durable\ninstances:\n  max: 5\nasync:\n  concurrency: 5\n',
        'index.js': `export default { async fetch(req) {
            const slow = new URL(req.url).searchParams.get('slow') === '1';
            const attempt = req.headers.get('x-kumo-attempt');
            if (slow && attempt === '1') await new Promise((r) => setTimeout(r, 60_000));
            return Response.json({ slow, attempt });
          } };\n`,
      }),
    );
    const enqueue = async (slow: boolean) => {
      const res = await fetch(`${server.url}/async/fn/durable/${slow ? '?slow=1' : ''}`, {
        method: 'POST',
        headers: { 'x-callback-url': `${receiver.url}/done` },
      });
      assert.equal(res.status, 202);
      return ((await res.json()) as { id: string }).id;
    };
    const slowIds: string[] = [];
    for (let i = 0; i < 5; i++) slowIds.push(await enqueue(true));
    await eventually(
      async () =>
        (await apiJson<{ invocations: Item[] }>(server, '/history?status=running&function=durable'))
          .invocations.length === 5,
      15_000,
      'five running invocations',
    );
    const quickIds: string[] = [];
    for (let batch = 0; batch < 10; batch++)
      quickIds.push(...(await Promise.all(Array.from({ length: 20 }, () => enqueue(false)))));
    const before = await apiJson<{ invocations: Item[] }>(server, '/history?function=durable&limit=1000');
    assert.equal(before.invocations.filter((i) => i.status === 'running').length, 5);
    assert.equal(before.invocations.filter((i) => i.status === 'queued').length, 200);

    // What the killed server leaves: its temporary folders and its instances' cgroups.
    const firstPid = first.child.pid ?? -1;
    assert.ok((await leftoversOf(firstPid)).length >= 4, 'the running server has its folders and cgroups');
    first.child.kill('SIGKILL');
    await exited(first.child);
    first = undefined;

    second = await startKumo(dataDir);
    const restarted = { url: second.url };
    // ...which the next server removes as it starts (and only those: its own are in use).
    assert.deepEqual(await leftoversOf(firstPid), []);
    assert.ok((await leftoversOf(second.child.pid ?? -1)).length >= 3);
    const all = [...slowIds, ...quickIds];
    const final = await eventually(
      async () => {
        const { invocations } = await apiJson<{ invocations: Item[] }>(
          restarted,
          '/history?function=durable&limit=1000',
        );
        return invocations.filter((i) => i.status === 'succeeded').length === all.length
          ? invocations
          : undefined;
      },
      60_000,
      'every invocation to succeed after the restart',
    );
    assert.equal(final.length, all.length, 'exactly one record per invocation');
    assert.deepEqual(new Set(final.map((i) => i.id)), new Set(all));
    for (const i of final) assert.equal(i.attempt, slowIds.includes(i.id) ? 2 : 1, `attempts of ${i.id}`);
    const interrupted = await apiJson<Detail>(restarted, `/invocations/${slowIds[0]}`);
    assert.deepEqual(
      interrupted.attempts.map((a) => [a.attempt, a.outcome]),
      [
        [1, 'interrupted'],
        [2, 'ok'],
      ],
    );
    await eventually(
      () => all.every((id) => receiver.bodies.some((b) => b.id === id)),
      30_000,
      'every callback',
    );
    for (const b of receiver.bodies) assert.equal(b.status, 'succeeded');
  } finally {
    first?.child.kill('SIGKILL');
    if (second) {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
    await receiver.close();
    await killLeftovers(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  }
});
