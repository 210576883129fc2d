/**
 * The async benchmark, `npm run bench:async`: on this machine, in one run,
 *  1. durable async enqueue rate: POST /async/fn/hello answered 202 (the row is committed first);
 *  2. end-to-end completion rate of the same hello invocations (enqueue to succeeded, all of them);
 *  3. warm sync throughput of hello with history and metrics recording on, against a second
 *     server started with --telemetry-off (both up at once, short runs alternated in pairs, the
 *     median of the paired ratios, so that other load on the machine hits both alike).
 * Prints a Markdown table with the machine.
 */
import autocannon from 'autocannon';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inQueue, kumoCli, startKumo, stopKumo, type KumoProcess } from './kumo-process.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SYNC_DURATION = Number(process.env.BENCH_SYNC_DURATION ?? 2);

type Server = KumoProcess;

/** Starts `kumo up` with `args` and deploys the hello function. */
async function startServer(work: string, name: string, args: string[]): Promise<Server> {
  const server = await startKumo(path.join(work, name), args);
  const fn = path.join(work, `fn-${name}`);
  await mkdir(fn, { recursive: true });
  await writeFile(
    path.join(fn, 'kumo.yaml'),
    'name: hello\nconcurrency: 32\ninstances:\n  max: 2\nasync:\n  concurrency: 32\n',
  );
  await writeFile(
    path.join(fn, 'index.js'),
    "export default { fetch() { return new Response('Hello, World!'); } };\n",
  );
  const deployed = await kumoCli(server.url, server.key, ['deploy', fn]);
  if (deployed.code !== 0) throw new Error(`deploy failed (${deployed.code}):\n${deployed.out}`);
  return server;
}

async function syncRps(s: Server, seconds: number): Promise<number> {
  const r = await autocannon({ url: `${s.url}/fn/hello`, connections: CONNECTIONS, duration: seconds });
  return r.requests.total / seconds;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-async-'));
  await chmod(work, 0o711);
  const servers: Server[] = [];
  const rows: string[][] = [];
  try {
    // 1 + 2: enqueue under load, then wait for the queue to drain.
    const s = await startServer(work, 'async', []);
    servers.push(s);
    const t0 = performance.now();
    const r = await autocannon({
      url: `${s.url}/async/fn/hello`,
      method: 'POST',
      body: '{"n":1}',
      connections: CONNECTIONS,
      duration: DURATION,
    });
    const enqueueMs = performance.now() - t0;
    const accepted = r['2xx'];
    const enqueueRate = accepted / (enqueueMs / 1000);
    const queuedAtEnd = await inQueue(s);
    while ((await inQueue(s)) > 0) await new Promise((res) => setTimeout(res, 100));
    const totalMs = performance.now() - t0;
    rows.push([
      'durable async enqueue (202 after commit)',
      `${Math.round(enqueueRate)}/s`,
      `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; ${accepted} accepted, ${r.non2xx + r.errors} refused/failed; target ≥ 2000/s`,
    ]);
    rows.push([
      'async hello, enqueue → succeeded (end to end)',
      `${Math.round(accepted / (totalMs / 1000))}/s`,
      `${accepted} invocations in ${(totalMs / 1000).toFixed(1)} s while enqueueing; ${queuedAtEnd} still queued when enqueueing stopped`,
    ]);
    await stopKumo(s.child);
    servers.pop();

    // 3: warm sync throughput, recording on vs off: both servers up at once, short runs
    // alternated in pairs so that drift and noise from other work on the machine hit both alike.
    const off = await startServer(work, 'sync-off', ['--telemetry-off']);
    servers.push(off);
    const on = await startServer(work, 'sync-on', []);
    servers.push(on);
    await syncRps(off, 2);
    await syncRps(on, 2);
    const ratios: number[] = [];
    const onRps: number[] = [];
    const offRps: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pair = round % 2 === 0 ? [off, on] : [on, off];
      const [a, b] = [
        await syncRps(pair[0] as Server, SYNC_DURATION),
        await syncRps(pair[1] as Server, SYNC_DURATION),
      ];
      const [rOff, rOn] = round % 2 === 0 ? [a, b] : [b, a];
      offRps.push(rOff);
      onRps.push(rOn);
      ratios.push(rOn / rOff);
    }
    const cost = 1 - median(ratios);
    rows.push([
      'warm sync hello, history + metrics off',
      `${Math.round(median(offRps))} req/s`,
      `--telemetry-off; median of ${ROUNDS} runs of ${SYNC_DURATION}s`,
    ]);
    rows.push([
      'warm sync hello, history + metrics on',
      `${Math.round(median(onRps))} req/s`,
      `default; median of ${ROUNDS} runs of ${SYNC_DURATION}s`,
    ]);
    rows.push([
      'recording cost (median of paired runs)',
      `${(cost * 100).toFixed(1)}%`,
      `target ≤ 10%; paired ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
    ]);

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`,
    );
    console.log(
      `autocannon: ${CONNECTIONS} connections; enqueue ${DURATION}s; sync on/off ${ROUNDS} paired runs of ${SYNC_DURATION}s\n`,
    );
    console.log('| measurement | rate | note |');
    console.log('|---|---:|---|');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  } finally {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
}

await main();
