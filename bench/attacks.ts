/**
 * Issue 12's targets, `npm run bench:attacks`: a kumo server started with default settings, a
 * well-behaved neighbour function called one request at a time throughout, and each attack of the
 * issue run for a bounded time (anonymous where the attacker was anonymous). For each
 * attack it prints the neighbour's p50/p99 (measured from a worker thread, apart from the attacks' loop) against its quiet p99 (target ≤ 2×), the server's peak
 * RSS (target < 300 MB), the data directory's growth, and what the attack got (status counts).
 * At the end every async invocation that was accepted (202) is checked to have reached an end
 * state: nothing accepted is lost. All traffic stays on loopback. The attacks run one after the
 * other on one server, so RSS is the process's own: memory an earlier attack left behind shows in
 * the later rows too.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { create as createTar } from 'tar';
import { kumoCli, percentile, startKumo, stopKumo, type KumoProcess } from './kumo-process.ts';

/** Seconds each attack runs. */
const SECONDS = Number(process.env.BENCH_ATTACK_SECONDS ?? 8);
/** Extra `kumo up` arguments (defaults when empty: what a user gets). */
const ARGS = (process.env.BENCH_ATTACK_ARGS ?? '').split(' ').filter(Boolean);

interface Row {
  attack: string;
  p50: number;
  p99: number;
  rssMb: number;
  diskMb: number;
  got: string;
}

/** The resident set of `pid` in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Bytes under `dir`. */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await du(p);
    else if (entry.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * The neighbour's client, in a worker thread with an event loop of its own: the attacks run in this
 * process's loop, and their work must not count as the neighbour's latency.
 */
const NEIGHBOUR = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
parentPort.on('message', () => (stop = true));
(async () => {
  const times = [];
  while (!stop) {
    const began = performance.now();
    try {
      const res = await fetch(workerData.url, { signal: AbortSignal.timeout(30000) });
      await res.text();
      times.push(res.ok ? performance.now() - began : 30000);
    } catch {
      times.push(30000);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  parentPort.postMessage(times);
})();
`;

/** Calls the neighbour one request at a time until `signal`; returns the latencies (ms). */
function neighbour(url: string, signal: AbortSignal): Promise<number[]> {
  const worker = new Worker(NEIGHBOUR, { eval: true, workerData: { url } });
  signal.addEventListener('abort', () => worker.postMessage('stop'), { once: true });
  return new Promise((resolve, reject) => {
    worker.once('message', (times: number[]) => {
      void worker.terminate();
      resolve(times);
    });
    worker.once('error', reject);
  });
}

/** Runs `attack` while the neighbour is measured and RSS sampled. */
async function measure(
  k: KumoProcess,
  data: string,
  attack: string,
  run: (signal: AbortSignal) => Promise<string>,
): Promise<Row> {
  process.stderr.write(`bench: attack: ${attack}\n`);
  const diskBefore = await du(data);
  const stop = new AbortController();
  const pid = k.child.pid ?? 0;
  let peak = await rssMb(pid);
  const sampler = setInterval(() => void rssMb(pid).then((r) => (peak = Math.max(peak, r))), 200);
  const times = neighbour(`${k.url}/fn/neighbour`, stop.signal);
  const deadline = AbortSignal.timeout(SECONDS * 1000);
  let got: string;
  try {
    got = await run(deadline);
  } finally {
    stop.abort();
    clearInterval(sampler);
  }
  const latencies = await times;
  return {
    attack,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rssMb: peak,
    diskMb: ((await du(data)) - diskBefore) / 1e6,
    got,
  };
}

/** Counts of each outcome, "202×90 429×10". */
function tally(outcomes: (string | number)[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(String(o), (counts.get(String(o)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(' ');
}

/** Runs `fn` on `workers` loops until `signal`. */
async function loops<T>(workers: number, signal: AbortSignal, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!signal.aborted) out.push(await fn());
    }),
  );
  return out;
}

/** Raw sockets that send `head`, then `drip` every second until `signal`; how each ended. */
async function drippers(
  url: string,
  count: number,
  head: () => Buffer | string,
  drip: string,
  signal: AbortSignal,
): Promise<string> {
  const u = new URL(url);
  const ends = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string>((resolve) => {
          const socket = net.connect(Number(u.port), u.hostname);
          let answer = '';
          socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
          socket.on('error', () => undefined);
          socket.write(head());
          const timer = setInterval(() => socket.write(drip), 1000);
          const done = (how: string) => {
            clearInterval(timer);
            socket.destroy();
            resolve(how);
          };
          socket.on('close', () => done(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 'closed'));
          signal.addEventListener('abort', () => done('held'), { once: true });
        }),
    ),
  );
  return tally(ends);
}

async function writeFn(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** A gzipped tar of one file of `mb` MB of zeros (a small upload that expands a lot). */
async function zeroBomb(work: string, mb: number): Promise<Buffer> {
  const dir = await writeFn(path.join(work, `bomb-${mb}`), {
    'kumo.yaml': 'name: bomb\nruntime: node\nhandler: index.handler\n',
    'index.js': 'export async function handler() { return "x"; }\n',
  });
  // A random byte every 2 KB keeps the ratio near 400:1, under kumo's 1000:1 refusal (the issue's
  // attack: 634 KB expanding to 240 MB).
  const data = Buffer.alloc(mb * 1024 * 1024);
  for (let i = 0; i < data.length; i += 2048) data[i] = Math.floor(Math.random() * 256);
  await writeFile(path.join(dir, 'zeros.bin'), data);
  const chunks: Buffer[] = [];
  for await (const c of createTar({ gzip: { level: 9 }, cwd: dir, portable: true }, [
    '.',
  ]) as AsyncIterable<Buffer>)
    chunks.push(c);
  return Buffer.concat(chunks);
}

/** A callback receiver on loopback: `drip` ones never finish reading, others answer at once. */
async function receiver(drip: boolean): Promise<{ url: string; arrivals: number[]; close: () => void }> {
  const arrivals: number[] = [];
  const server = http.createServer((req, res) => {
    if (drip) {
      const timer = setInterval(() => res.write(' '), 2000);
      res.writeHead(200, { 'content-type': 'text/plain' });
      req.on('close', () => clearInterval(timer));
      return;
    }
    req.resume();
    req.on('end', () => {
      arrivals.push(performance.now());
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-attacks-'));
const data = path.join(work, 'data');
const k = await startKumo(data, ARGS);
const accepted: string[] = [];
const rows: Row[] = [];
try {
  const relay =
    'function main(args)\n  return { result = call(args.plugin, args.action, args.payload) }\nend\n';
  const fns = {
    neighbour: {
      'kumo.yaml': 'name: neighbour\nruntime: node\nhandler: index.handler\n',
      'index.js': 'export async function handler() { return "ok"; }\n',
    },
    victim: {
      'kumo.yaml': 'name: victim\nruntime: node\nhandler: index.handler\n',
      'index.js': 'export async function handler(event) { return { size: JSON.stringify(event).length }; }\n',
    },
    relay: {
      'kumo.yaml': 'name: relay\nruntime: lua\nhandler: relay.lua\nplugins: [kv, docs]\n',
      'relay.lua': relay,
    },
    logger: {
      'kumo.yaml': 'name: logger\nruntime: node\nhandler: index.handler\n',
      'index.js':
        'export async function handler() { for (let i = 0; i < 20000; i++) console.log("flood " + i + " ".repeat(200)); return "done"; }\n',
    },
  };
  for (const [name, files] of Object.entries(fns)) {
    const r = await kumoCli(k.url, k.key, ['deploy', await writeFn(path.join(work, name), files)]);
    if (r.code !== 0) throw new Error(`deploy of ${name} failed:\n${r.out}`);
  }
  const fn = (name: string) => `${k.url}/fn/${name}`;
  const pluginCall = (plugin: string, action: string, payload: unknown) =>
    fetch(fn('relay'), { method: 'POST', body: JSON.stringify({ plugin, action, payload }) });

  rows.push(
    await measure(k, data, 'none (quiet)', async (signal) => {
      await sleep(SECONDS * 1000, undefined, { signal }).catch(() => undefined);
      return '';
    }),
  );

  rows.push(
    await measure(k, data, 'slow-loris headers: 200 connections drip a header a second', (signal) =>
      drippers(k.url, 200, () => 'GET /fn/victim HTTP/1.1\r\nHost: x\r\n', 'X-a: b\r\n', signal),
    ),
  );

  rows.push(
    await measure(k, data, 'slow body: 100 connections send 6 MB less a byte, then hold', (signal) =>
      drippers(
        k.url,
        100,
        () =>
          Buffer.concat([
            Buffer.from(`POST /fn/victim HTTP/1.1\r\nHost: x\r\nContent-Length: ${6 * 1024 * 1024}\r\n\r\n`),
            Buffer.alloc(6 * 1024 * 1024 - 1, 120),
          ]),
        '',
        signal,
      ),
    ),
  );

  rows.push(
    await measure(k, data, 'anonymous async disk fill: 5 MB bodies, 10 at a time', async (signal) => {
      const body = Buffer.alloc(5 * 1024 * 1024, 121);
      const outcomes = await loops(10, signal, async () => {
        const res = await fetch(`${k.url}/async/fn/victim`, { method: 'POST', body }).catch(() => undefined);
        if (!res) return 'error';
        const answer = (await res.json().catch(() => ({}))) as { id?: string };
        if (res.status === 202 && answer.id) accepted.push(answer.id);
        return res.status;
      });
      return tally(outcomes);
    }),
  );

  rows.push(
    await measure(k, data, 'async flood: small bodies, 32 at a time', async (signal) => {
      const outcomes = await loops(32, signal, async () => {
        const res = await fetch(`${k.url}/async/fn/victim`, { method: 'POST', body: '{"n":1}' }).catch(
          () => undefined,
        );
        if (!res) return 'error';
        const answer = (await res.json().catch(() => ({}))) as { id?: string };
        if (res.status === 202 && answer.id) accepted.push(answer.id);
        return res.status;
      });
      return tally(outcomes);
    }),
  );

  const dripping = await Promise.all(Array.from({ length: 8 }, () => receiver(true)));
  const healthy = await receiver(false);
  rows.push(
    await measure(k, data, 'callback starvation: 8 dripping receivers, then 1 healthy', async (signal) => {
      for (const r of dripping) {
        const res = await fetch(`${k.url}/async/fn/neighbour`, {
          method: 'POST',
          headers: { 'x-callback-url': r.url },
        });
        const { id } = (await res.json()) as { id?: string };
        if (id) accepted.push(id);
      }
      await sleep(500);
      const sent = performance.now();
      const res = await fetch(`${k.url}/async/fn/neighbour`, {
        method: 'POST',
        headers: { 'x-callback-url': healthy.url },
      });
      const { id } = (await res.json()) as { id?: string };
      if (id) accepted.push(id);
      while (!signal.aborted && healthy.arrivals.length === 0) await sleep(50);
      const arrived = healthy.arrivals[0];
      return arrived === undefined
        ? `healthy callback not there after ${SECONDS} s`
        : `healthy callback after ${((arrived - sent) / 1000).toFixed(1)} s`;
    }),
  );
  for (const r of [...dripping, healthy]) r.close();

  rows.push(
    await measure(k, data, 'kv fill: 256 KB values under new keys, 4 at a time', async (signal) => {
      const value = 'v'.repeat(256 * 1024);
      let n = 0;
      const outcomes = await loops(4, signal, async () => {
        const res = await pluginCall('kv', 'set', { key: `k${n++}`, value }).catch(() => undefined);
        await res?.text();
        return res?.status ?? 'error';
      });
      return tally(outcomes);
    }),
  );

  process.stderr.write('bench: seeding 20k documents\n');
  for (let i = 0; i < 200; i++)
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        pluginCall('docs', 'insert', {
          collection: 'big',
          data: { n: i * 100 + j, tag: `t${j % 7}`, pad: 'x'.repeat(100) },
        }).then((r) => r.text()),
      ),
    );
  rows.push(
    await measure(k, data, 'docs scans: 4 callers query 20k documents in a loop', async (signal) => {
      const outcomes = await loops(4, signal, async () => {
        const res = await pluginCall('docs', 'query', {
          collection: 'big',
          query: { n: { $gt: 19_990 }, tag: 't3' },
        }).catch(() => undefined);
        await res?.text();
        return res?.status ?? 'error';
      });
      return tally(outcomes);
    }),
  );

  rows.push(
    await measure(k, data, 'log flood: 20k lines of 200 B a call, 2 at a time', async (signal) => {
      const outcomes = await loops(2, signal, async () => {
        const res = await fetch(fn('logger')).catch(() => undefined);
        await res?.text();
        return res?.status ?? 'error';
      });
      return tally(outcomes);
    }),
  );

  const bomb = await zeroBomb(work, 240);
  rows.push(
    await measure(
      k,
      data,
      `deploy bombs: 4 at once, ${(bomb.length / 1024).toFixed(0)} KB expanding to 240 MB`,
      async (signal) => {
        const outcomes = await loops(4, signal, async () => {
          const res = await fetch(`${k.url}/api/v1/functions?name=bomb`, {
            method: 'POST',
            headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/gzip' },
            body: bomb,
          }).catch(() => undefined);
          await res?.text();
          return res?.status ?? 'error';
        });
        return tally(outcomes);
      },
    ),
  );

  // Nothing accepted is lost: every 202 reaches an end state.
  process.stderr.write(`bench: waiting for ${accepted.length} accepted async invocations\n`);
  const pending = new Set(accepted);
  const until = Date.now() + 180_000;
  while (pending.size > 0 && Date.now() < until) {
    for (const id of [...pending].slice(0, 200)) {
      const res = await fetch(`${k.url}/invocations/${id}`, {
        headers: { authorization: `Bearer ${k.key}` },
      });
      await res.arrayBuffer();
      if (res.status !== 202) pending.delete(id);
    }
    if (pending.size > 0) await sleep(500);
  }
  const quiet = rows[0]?.p99 ?? NaN;
  const maxRss = Math.max(...rows.map((r) => r.rssMb));
  process.stdout.write(
    `\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; kumo up ${ARGS.join(' ') || '(defaults)'}; ${SECONDS} s an attack; neighbour called one request at a time\n\n` +
      '| attack | neighbour p50 ms | p99 ms | p99 vs quiet | server peak RSS MB | data dir growth MB | what the attack got |\n' +
      '|---|---:|---:|---:|---:|---:|---|\n' +
      rows
        .map(
          (r) =>
            `| ${r.attack} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.p99 / quiet).toFixed(2)}× | ${r.rssMb.toFixed(0)} | ${r.diskMb.toFixed(1)} | ${r.got} |`,
        )
        .join('\n') +
      `\n\n| target | this run | met |\n|---|---:|---|\n` +
      `| neighbour p99 ≤ 2× quiet under every attack | worst ${Math.max(...rows.map((r) => r.p99 / quiet)).toFixed(2)}× | ${rows.every((r) => r.p99 <= 2 * quiet) ? 'yes' : 'no'} |\n` +
      `| server RSS < 300 MB | peak ${maxRss.toFixed(0)} MB | ${maxRss < 300 ? 'yes' : 'no'} |\n` +
      `| nothing accepted is lost | ${accepted.length - pending.size} of ${accepted.length} async invocations ended | ${pending.size === 0 ? 'yes' : 'no'} |\n`,
  );
} finally {
  await stopKumo(k.child);
  await rm(work, { recursive: true, force: true });
}
