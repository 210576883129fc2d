/**
 * The soak test of issue 12, `npm run test:soak` (10 minutes; SOAK_MINUTES to change): one
 * `kumo up` process under mixed traffic — sync calls, async calls with callbacks, redeploys,
 * log floods and kv writes — with its RSS and its data directory's size sampled every 10 s.
 * After warm-up (the first 40 % of the run), both must stay flat: the mean of the last fifth may
 * exceed the mean of the first post-warm-up fifth by at most 15 % plus a small constant. Every
 * sync call must succeed and every accepted async invocation must end.
 *
 * History keeps 1,000 invocations per function here (`--history-max 1000`, SOAK_KUMO_ARGS to
 * change) so that the bound is reached during warm-up; with the default of 10,000 the same plateau
 * comes later, after 10,000 calls of the busiest function.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReceiver } from '../e2e/async-helpers.ts';
import { mustDeploy, spawnKumo, useAdminKey, writeFunction } from '../e2e/harness.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const ARGS = (process.env.SOAK_KUMO_ARGS ?? '--history-max 1000').split(' ').filter(Boolean);
const SAMPLE_MS = Math.min(10_000, (MINUTES * 60_000) / 30);

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function duMb(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await duMb(p);
    else if (entry.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size / 1e6;
  }
  return total;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

test(
  `${MINUTES} minutes of mixed traffic: RSS and data directory stay flat after warm-up`,
  { timeout: (MINUTES + 5) * 60_000 },
  async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'kumo-soak-'));
    const kumo = await spawnKumo(['--data', data, ...ARGS]);
    const server = { url: kumo.url, adminKey: await useAdminKey(kumo.url, data) };
    const receiver = await startReceiver();
    try {
      const node = (name: string, body: string) =>
        writeFunction({
          'kumo.yaml': `name: ${name}\nruntime: node\nhandler: index.handler\n`,
          'index.js': body,
        });
      await mustDeploy(server, await node('neighbour', 'export async function handler() { return "ok"; }\n'));
      await mustDeploy(
        server,
        await node(
          'echo',
          'export async function handler(event) { return { got: JSON.stringify(event).length }; }\n',
        ),
      );
      await mustDeploy(
        server,
        await node(
          'logger',
          'export async function handler() { for (let i = 0; i < 3000; i++) console.log("line " + i + " ".repeat(100)); return "done"; }\n',
        ),
      );
      await mustDeploy(
        server,
        await writeFunction({
          'kumo.yaml': 'name: relay\nruntime: lua\nhandler: relay.lua\nplugins: [kv]\n',
          'relay.lua':
            'function main(args)\n  return { result = call("kv", "set", { key = args.key, value = args.value }) }\nend\n',
        }),
      );

      const ends = Date.now() + MINUTES * 60_000;
      const running = () => Date.now() < ends;
      const failures: string[] = [];
      const accepted: string[] = [];
      const loop = async (pauseMs: number, fn: (i: number) => Promise<void>) => {
        for (let i = 0; running(); i++) {
          await fn(i).catch((err: unknown) => void failures.push(String(err)));
          await sleep(pauseMs);
        }
      };
      const ok = async (what: string, res: Response) => {
        const text = await res.text();
        if (res.status !== 200 && res.status !== 202)
          failures.push(`${what}: ${res.status} ${text.slice(0, 200)}`);
        return text;
      };
      const samples: { at: number; rss: number; disk: number }[] = [];
      const began = Date.now();
      const pid = kumo.child.pid ?? 0;
      await Promise.all([
        loop(10, async () => void (await ok('sync', await fetch(`${kumo.url}/fn/neighbour`)))),
        loop(50, async (i) => {
          const body = JSON.stringify({ i, pad: 'p'.repeat(8_000) });
          await ok('echo', await fetch(`${kumo.url}/fn/echo`, { method: 'POST', body }));
        }),
        loop(100, async (i) => {
          const headers: Record<string, string> = i % 2 ? { 'x-callback-url': `${receiver.url}/hook` } : {};
          const res = await fetch(`${kumo.url}/async/fn/echo`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ i }),
          });
          const id = (JSON.parse(await ok('async', res)) as { id?: string }).id;
          if (id) accepted.push(id);
        }),
        loop(2_000, async () => void (await ok('logger', await fetch(`${kumo.url}/fn/logger`)))),
        loop(200, async (i) => {
          const body = JSON.stringify({ key: `k${i % 200}`, value: 'v'.repeat(2_000) });
          await ok('kv', await fetch(`${kumo.url}/fn/relay`, { method: 'POST', body }));
        }),
        loop(
          15_000,
          async (i) =>
            void (await mustDeploy(
              server,
              await node('churn', `export async function handler() { return ${i}; }\n`),
            )),
        ),
        loop(SAMPLE_MS, async () => {
          samples.push({ at: (Date.now() - began) / 1000, rss: await rssMb(pid), disk: await duMb(data) });
        }),
      ]);

      // Every accepted async invocation ends.
      const pending = new Set(accepted);
      const until = Date.now() + 120_000;
      while (pending.size > 0 && Date.now() < until) {
        for (const id of [...pending]) {
          const res = await fetch(`${kumo.url}/invocations/${id}`, {
            headers: { authorization: `Bearer ${server.adminKey}` },
          });
          await res.arrayBuffer();
          if (res.status !== 202) pending.delete(id);
        }
        if (pending.size > 0) await sleep(500);
      }

      process.stdout.write(
        `# soak samples (s, RSS MB, data dir MB):\n${samples.map((s) => `#   ${s.at.toFixed(0)}\t${s.rss.toFixed(0)}\t${s.disk.toFixed(1)}`).join('\n')}\n`,
      );
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} calls failed`);
      assert.equal(
        pending.size,
        0,
        `${pending.size} of ${accepted.length} accepted async invocations never ended`,
      );
      const fifth = Math.max(1, Math.floor(samples.length / 5));
      const settled = samples.slice(
        Math.floor(samples.length * 0.4),
        Math.floor(samples.length * 0.4) + fifth,
      );
      const last = samples.slice(-fifth);
      const rss = { settled: mean(settled.map((s) => s.rss)), last: mean(last.map((s) => s.rss)) };
      const disk = { settled: mean(settled.map((s) => s.disk)), last: mean(last.map((s) => s.disk)) };
      assert.ok(
        rss.last <= rss.settled * 1.15 + 20,
        `RSS grew after warm-up: ${rss.settled.toFixed(0)} → ${rss.last.toFixed(0)} MB`,
      );
      assert.ok(
        disk.last <= disk.settled * 1.15 + 5,
        `the data directory grew after warm-up: ${disk.settled.toFixed(1)} → ${disk.last.toFixed(1)} MB`,
      );
    } finally {
      await receiver.close();
      kumo.child.kill('SIGTERM');
      await new Promise((resolve) => kumo.child.once('exit', resolve));
      await rm(data, { recursive: true, force: true });
    }
  },
);
