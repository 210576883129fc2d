/**
 * kumo's benchmark, one command: `npm run bench`. Everything is measured in the same run on this
 * machine, against baselines: a raw node:http hello server (the ceiling) and the function's own
 * instance reached directly on its Unix socket (to isolate the gateway's cost); miniflare
 * (workerd) on the same function; then cold starts with and without stem cells and a burst of
 * first requests to 50 functions (bench/cold.ts), and PostgreSQL beside SQLite with deploy live
 * on three nodes (bench/cluster.ts; BENCH_CLUSTER=0 leaves it out).
 *
 * Prints a Markdown table (paste it into the README with the machine line).
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  kumoCli,
  percentile,
  processCpuUs,
  ROOT,
  scaledToZero,
  spawnUntil,
  startKumo,
  stopKumo,
  timed,
  type KumoProcess,
} from './kumo-process.ts';
import { coldTable, coldTargets, measureCold } from './cold.ts';
import { measureCluster, type Target } from './cluster.ts';

const BASELINES = path.join(ROOT, 'bench/baseline-servers.ts');
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** The second, heavier load level of issue 15's targets. */
const MANY_CONNECTIONS = Number(process.env.BENCH_MANY_CONNECTIONS ?? 64);
const COLD_TRIALS = Number(process.env.BENCH_COLD_TRIALS ?? 20);
const DEPLOY_TRIALS = Number(process.env.BENCH_DEPLOY_TRIALS ?? 5);
/** Warm-throughput rounds per kumo server, alternating between the servers. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Row {
  what: string;
  /** Names the rows the target summary reads. */
  key?:
    | 'warm'
    | 'warm-nosb'
    | 'cold'
    | 'cold-nosb'
    | 'deploy'
    | 'proxy'
    | 'miniflare'
    | 'miniflare-many'
    | 'default'
    | 'default-many';
  /** The kumo server's CPU time per request during the load, in µs. */
  cpuUs?: number;
  rps: number | undefined;
  p50: number;
  p99: number;
  note: string;
}

/** Progress on stderr, so a slow step is visible and the table on stdout stays clean. */
function step(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** How to load a target: `connections` keep-alive clients; `pid`: the server whose CPU time to count. */
interface LoadOptions {
  connections?: number;
  pid?: number | undefined;
}

async function load(what: string, url: string, note: string, options: LoadOptions = {}): Promise<Row> {
  step(`load: ${what}`);
  const connections = options.connections ?? CONNECTIONS;
  // A short warm-up so every target is measured warm.
  await autocannon({ url, connections, duration: 1 });
  const cpuBefore = options.pid === undefined ? undefined : await processCpuUs(options.pid);
  const r = await autocannon({ url, connections, duration: DURATION });
  const cpuUs =
    options.pid === undefined || cpuBefore === undefined
      ? undefined
      : ((await processCpuUs(options.pid)) - cpuBefore) / Math.max(1, r.requests.total);
  const bad = r.non2xx + r.errors + r.timeouts;
  return {
    what,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ...(cpuUs === undefined ? {} : { cpuUs }),
    note: bad ? `${note}; ${bad} failed` : note,
  };
}

/** The headers the gateway adds, which an instance expects on every request. */
function platformHeaders(): Record<string, string> {
  return { 'x-kumo-invocation-id': randomUUID(), 'x-kumo-deadline': String(Date.now() + 30_000) };
}

/**
 * Throughput of the instance reached directly on its Unix socket, with `CONNECTIONS` keep-alive
 * clients for `DURATION` seconds (autocannon's socketPath mode stalls against these sockets).
 */
async function loadSocket(what: string, socketPath: string, note: string): Promise<Row> {
  step(`load: ${what}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const times: number[] = [];
  let failed = 0;
  const until = performance.now() + DURATION * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const req = http.request({ agent, socketPath, path: '/', headers: platformHeaders() }, (res) => {
          if (res.statusCode !== 200) failed++;
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', () => {
          failed++;
          resolve();
        });
        req.end();
      });
      times.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return {
    what,
    rps: times.length / DURATION,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    note: failed ? `${note}; ${failed} failed` : `${note}; node:http client`,
  };
}

/** Latency of one request at a time over a kept-alive connection: the cost of a hop without queueing. */
async function sequential(
  target: { port?: number; socketPath?: string; path: string },
  n = 2000,
): Promise<{ p50: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { agent, host: '127.0.0.1', ...target, headers: target.socketPath ? platformHeaders() : {} },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
    times.push(performance.now() - t0);
  }
  agent.destroy();
  return { p50: percentile(times.slice(n / 10), 50), p99: percentile(times.slice(n / 10), 99) };
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-'));
  await chmod(work, 0o711);
  const children: ChildProcess[] = [];
  try {
    const rows: Row[] = [];
    let overhead: number | undefined;
    // 1. The ceiling: raw node:http hello on this machine; then the bound of forwarding at all:
    //    a minimal reverse proxy (no kumo logic) in front of the same hello on a Unix socket.
    const port = await freePort();
    const raw = await spawnUntil(process.execPath, [BASELINES, 'hello', String(port)], /ready/);
    children.push(raw.child);
    rows.push(await load('raw node:http hello (ceiling)', `http://127.0.0.1:${port}/`, 'baseline'));
    raw.child.kill();
    const upstreamSocket = path.join(work, 'hello.sock');
    const upstream = await spawnUntil(process.execPath, [BASELINES, 'hello-socket', upstreamSocket], /ready/);
    children.push(upstream.child);
    const proxyPort = await freePort();
    const proxy = await spawnUntil(
      process.execPath,
      [BASELINES, 'proxy', String(proxyPort), upstreamSocket],
      /ready/,
    );
    children.push(proxy.child);
    rows.push({
      ...(await load(
        'minimal node:http proxy → hello on a Unix socket',
        `http://127.0.0.1:${proxyPort}/`,
        'the bound of forwarding to another process',
        { pid: proxy.child.pid },
      )),
      key: 'proxy',
    });
    // The same hop one request at a time: what any extra process in the path costs in latency on
    // this machine (the floor under kumo's "gateway overhead", which adds its own work on top).
    step('one request at a time: minimal proxy, then its upstream direct');
    const viaProxy = await sequential({ port: proxyPort, path: '/' });
    const upstreamDirect = await sequential({ socketPath: upstreamSocket, path: '/' });
    rows.push({
      what: 'one request at a time via the minimal proxy',
      rps: undefined,
      ...viaProxy,
      note: `keep-alive; the hop alone adds ${(viaProxy.p50 - upstreamDirect.p50).toFixed(2)} ms p50 over its upstream direct (${upstreamDirect.p50.toFixed(2)} ms)`,
    });
    const proxyHop = viaProxy.p50 - upstreamDirect.p50;
    proxy.child.kill();
    upstream.child.kill();

    // The isolate peer: Cloudflare's workerd through miniflare, the same hello function.
    const mfPort = await freePort();
    const mf = await spawnUntil(process.execPath, [BASELINES, 'miniflare', String(mfPort)], /ready/);
    children.push(mf.child);
    const mfUrl = `http://127.0.0.1:${mfPort}/`;
    rows.push({ ...(await load('miniflare 4 (workerd) → hello', mfUrl, 'isolate peer')), key: 'miniflare' });
    rows.push({
      ...(await load(
        `miniflare 4 (workerd) → hello, ${MANY_CONNECTIONS} connections`,
        mfUrl,
        'isolate peer',
        {
          connections: MANY_CONNECTIONS,
        },
      )),
      key: 'miniflare-many',
    });
    await stopKumo(mf.child);

    // 2. kumo, sandboxed (the default) and without the sandbox: both servers run side by side
    //    and their measurements alternate, so a drift of the machine during the run (it is a VM)
    //    lands on both and the sandbox's own cost is what remains.
    const servers: KumoServer[] = [];
    for (const mode of MODES) servers.push(await startServer(work, mode, children));
    const fnDir = await writeFn(work, 'hello', 'concurrency: 32\ninstances:\n  max: 1\n', 'Hello, World!');
    const coldDir = await writeFn(work, 'cold', 'instances:\n  idle: 1s\n', 'cold');
    // What a user gets: the same function with nothing in its manifest but its name.
    const defaultDir = await writeFn(work, 'hello-default', '', 'Hello, World!');
    for (const k of servers) {
      for (const dir of [fnDir, coldDir, defaultDir]) {
        const deployed = await kumoCli(k.url, k.key, ['deploy', dir]);
        if (deployed.code !== 0) throw new Error(deployed.out);
      }
    }
    const warm = new Map<Mode, Row[]>(MODES.map((m) => [m, []]));
    const defaults: Row[] = [];
    const defaultsMany: Row[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const k of servers) {
        warm.get(k.mode)?.push(
          await load(
            `kumo → hello, warm (${k.mode}; concurrency 32, 1 instance)`,
            `${k.url}/fn/hello`,
            'gateway + instance',
            {
              pid: k.child.pid,
            },
          ),
        );
      }
      const k = servers[0] as KumoServer;
      defaults.push(
        await load(
          'kumo → hello, warm, default settings (sandboxed)',
          `${k.url}/fn/hello-default`,
          'what a user gets',
          {
            pid: k.child.pid,
          },
        ),
      );
      defaultsMany.push(
        await load(
          `kumo → hello, warm, default settings, ${MANY_CONNECTIONS} connections`,
          `${k.url}/fn/hello-default`,
          'what a user gets',
          { pid: k.child.pid, connections: MANY_CONNECTIONS },
        ),
      );
    }
    for (const k of servers) {
      const median = medianRow(warm.get(k.mode) ?? []);
      rows.push({
        ...median,
        key: k.mode === 'sandboxed' ? 'warm' : 'warm-nosb',
        note: `${median.note}; median of ${ROUNDS} rounds`,
      });
    }
    for (const [list, key] of [
      [defaults, 'default'],
      [defaultsMany, 'default-many'],
    ] as const) {
      const median = medianRow(list);
      rows.push({ ...median, key, note: `${median.note}; median of ${ROUNDS} rounds` });
    }

    const sandboxed = servers[0] as KumoServer;
    const instDir = (await readdir(sandboxed.runDir)).find(
      (d) => d.startsWith('hello-') && !d.endsWith('.host'),
    );
    if (instDir) {
      const socketPath = path.join(sandboxed.runDir, instDir, 'fn.sock');
      rows.push(await loadSocket('hello instance direct (Unix socket)', socketPath, 'no gateway'));
      const port = Number(new URL(sandboxed.url).port);
      step('one request at a time: via kumo, then direct');
      const viaGateway = await sequential({ port, path: '/fn/hello' });
      const direct = await sequential({ socketPath, path: '/' });
      rows.push({
        what: 'one request at a time via kumo',
        rps: undefined,
        ...viaGateway,
        note: 'keep-alive, no queueing',
      });
      rows.push({
        what: 'one request at a time, instance direct',
        rps: undefined,
        ...direct,
        note: 'keep-alive, no queueing',
      });
      overhead = viaGateway.p50 - direct.p50;
    }

    // Cold start: the first request after scale to zero, trials alternating between the servers.
    step('cold starts');
    const colds = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
    for (let i = 0; i < COLD_TRIALS; i++) {
      for (const k of servers) {
        await scaledToZero(k, 'cold');
        colds.get(k.mode)?.push(await timed(async () => (await fetch(`${k.url}/fn/cold`)).text()));
      }
    }
    for (const k of servers) {
      const times = colds.get(k.mode) ?? [];
      rows.push({
        what: `cold start after scale to zero, ${COLD_TRIALS} trials (${k.mode})`,
        key: k.mode === 'sandboxed' ? 'cold' : 'cold-nosb',
        rps: undefined,
        p50: percentile(times, 50),
        p99: percentile(times, 99),
        note:
          k.mode === 'sandboxed'
            ? 'a stem cell assigned + answer (the default)'
            : 'spawn + load + answer (stem cells need the sandbox)',
      });
    }

    // Deploy of a small function, end to end through the CLI.
    const deploys: number[] = [];
    for (let i = 0; i < DEPLOY_TRIALS; i++) {
      await writeFn(work, 'hello', 'concurrency: 32\ninstances:\n  max: 1\n', `Hello ${i}`);
      deploys.push(
        await timed(async () => {
          const r = await kumoCli(sandboxed.url, sandboxed.key, ['deploy', fnDir]);
          if (r.code !== 0) throw new Error(r.out);
        }),
      );
    }
    rows.push({
      what: `deploy of a small function, CLI end to end (${DEPLOY_TRIALS} trials)`,
      key: 'deploy',
      rps: undefined,
      p50: percentile(deploys, 50),
      p99: percentile(deploys, 99),
      note: 'package, upload, build, start',
    });
    for (const k of servers) await stopKumo(k.child);
    // Issue 15: cold starts with and without stem cells (node, python, lua) and a burst of first
    // requests to 50 functions; issue 14: PostgreSQL beside SQLite, and deploy live on 3 nodes.
    step('cold starts with and without stem cells, and a burst (bench/cold.ts)');
    const cold = await measureCold();
    let cluster: Awaited<ReturnType<typeof measureCluster>> | undefined;
    if (process.env.BENCH_CLUSTER !== '0') {
      step('PostgreSQL beside SQLite, deploy live on 3 nodes (bench/cluster.ts)');
      cluster = await measureCluster();
    }
    printTable(rows, overhead, proxyHop);
    console.log('\nCold starts (bench/cold.ts): sandbox on, default settings but `instances.idle: 1s`\n');
    for (const line of coldTable(cold)) console.log(line);
    if (cluster) {
      console.log(
        '\nOne node and three nodes on PostgreSQL (bench/cluster.ts), PostgreSQL on the same machine\n',
      );
      console.log('| measurement | figure | note |\n|---|---:|---|');
      for (const row of cluster.rows) console.log(`| ${row.join(' | ')} |`);
    }
    // Stem cells need the sandbox: the sandbox's own cost is the ordinary start's against none.
    const ordinary = cold.rows.find((r) => r.what.includes('node hello'))?.plain ?? [];
    printTargets(rows, rows[0]?.rps ?? NaN, overhead, percentile(ordinary, 50), [
      ...coldTargets(cold),
      ...(cluster?.targets ?? []),
    ]);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
}

type Mode = 'sandboxed' | 'no sandbox';
const MODES: Mode[] = ['sandboxed', 'no sandbox'];

/** One kumo server of the run. */
interface KumoServer extends KumoProcess {
  mode: Mode;
}

/** Starts kumo in `mode` with its own data folder. */
async function startServer(work: string, mode: Mode, children: ChildProcess[]): Promise<KumoServer> {
  const data = path.join(work, `data-${mode === 'sandboxed' ? 'sb' : 'nosb'}`);
  const server = await startKumo(data, mode === 'sandboxed' ? [] : ['--insecure-no-sandbox']);
  children.push(server.child);
  return { ...server, mode };
}

/** The round with the median throughput. */
function medianRow(rounds: Row[]): Row {
  const sorted = [...rounds].sort((a, b) => (a.rps ?? 0) - (b.rps ?? 0));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error('no load round was measured');
  return median;
}

/** A TCP port free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Writes a one-file hello function answering `text`. */
async function writeFn(work: string, name: string, manifest: string, text: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'kumo.yaml'), `name: ${name}\n${manifest}`);
  await writeFile(
    path.join(dir, 'index.js'),
    `export default { fetch() { return new Response(${JSON.stringify(text)}); } };\n`,
  );
  return dir;
}

function printTable(rows: Row[], overhead: number | undefined, proxyHop: number | undefined): void {
  const ceiling = rows[0]?.rps ?? NaN;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`,
  );
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION}s per target\n`);
  console.log('| measurement | req/s | vs ceiling | p50 ms | p99 ms | server CPU µs/req | note |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const ratio = r.rps === undefined ? '' : `${Math.round((r.rps / ceiling) * 100)}%`;
    const cpu = r.cpuUs === undefined ? '' : r.cpuUs.toFixed(0);
    console.log(
      `| ${r.what} | ${r.rps === undefined ? '' : Math.round(r.rps)} | ${ratio} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${cpu} | ${r.note} |`,
    );
  }
  if (overhead !== undefined)
    console.log(
      `\nGateway overhead (kumo vs instance direct, one request at a time), p50: ${overhead.toFixed(2)} ms; the minimal proxy's hop alone: ${proxyHop?.toFixed(2) ?? '?'} ms`,
    );
}

/** The issue targets against this run's figures. */
function printTargets(
  rows: Row[],
  ceiling: number,
  overhead: number | undefined,
  coldOrdinary: number,
  more: Target[],
): void {
  const row = (key: Row['key']) => rows.find((r) => r.key === key);
  const warm = row('warm')?.rps ?? NaN;
  const warmNoSandbox = row('warm-nosb')?.rps ?? NaN;
  const cold = row('cold')?.p50 ?? NaN;
  const coldNoSandbox = row('cold-nosb')?.p50 ?? NaN;
  const deploy = row('deploy')?.p50 ?? NaN;
  const sandboxThroughputCost = (1 - warm / warmNoSandbox) * 100;
  const rps = (key: Row['key']) => row(key)?.rps ?? NaN;
  const defaults = rps('default');
  const defaultsMany = rps('default-many');
  const defaultCpu = row('default')?.cpuUs ?? NaN;
  const lines: Target[] = [
    [
      'warm throughput ≥ 50% of raw node:http',
      `${((warm / ceiling) * 100).toFixed(1)}%`,
      warm / ceiling >= 0.5,
    ],
    ['gateway overhead p50 ≤ 1 ms', `${overhead?.toFixed(2) ?? '?'} ms`, (overhead ?? Infinity) <= 1],
    ['cold start p50 ≤ 150 ms (sandboxed)', `${cold.toFixed(1)} ms`, cold <= 150],
    ['deploy ≤ 1 s', `${deploy.toFixed(0)} ms`, deploy <= 1000],
    [
      'sandbox adds ≤ 30 ms p50 to a cold start (ordinary start, no stem cell)',
      `${(coldOrdinary - coldNoSandbox).toFixed(1)} ms`,
      coldOrdinary - coldNoSandbox <= 30,
    ],
    [
      'sandbox adds ≤ 5% to warm throughput',
      `${sandboxThroughputCost.toFixed(1)}%`,
      sandboxThroughputCost <= 5,
    ],
    // issue 15: default settings against the isolate peer and the bare proxy, same run
    [
      `default settings ≥ 2× miniflare at ${CONNECTIONS} connections`,
      `${(defaults / rps('miniflare')).toFixed(2)}×`,
      defaults >= 2 * rps('miniflare'),
    ],
    [
      `default settings ≥ 2× miniflare at ${MANY_CONNECTIONS} connections`,
      `${(defaultsMany / rps('miniflare-many')).toFixed(2)}×`,
      defaultsMany >= 2 * rps('miniflare-many'),
    ],
    [
      'default settings ≥ the bare node:http proxy',
      `${(defaults / rps('proxy')).toFixed(2)}×`,
      defaults >= rps('proxy'),
    ],
    [
      `default settings at ${MANY_CONNECTIONS} connections ≥ at ${CONNECTIONS}`,
      `${Math.round(defaultsMany)} vs ${Math.round(defaults)} req/s`,
      defaultsMany >= defaults,
    ],
    [
      'gateway CPU ≤ 30 µs per proxied request (default settings)',
      `${defaultCpu.toFixed(0)} µs`,
      defaultCpu <= 30,
    ],
    [
      'gateway overhead one request at a time p50 ≤ 0.2 ms',
      `${overhead?.toFixed(2) ?? '?'} ms`,
      (overhead ?? Infinity) <= 0.2,
    ],
    ...more,
  ];
  console.log('\n| target | this run | met |\n|---|---:|---|');
  for (const [what, value, met] of lines) console.log(`| ${what} | ${value} | ${met ? 'yes' : 'no'} |`);
}

await main();
