/**
 * The store benchmark, `npm run bench:store`: kumo on SQLite and on PostgreSQL side by side, in one
 * run on this machine (both servers up at once, rounds alternated so other load hits both alike):
 *  1. durable async enqueue rate: POST /async/fn/hello answered 202 (the row is committed first),
 *     64 clients, 3 alternated rounds, the median and the spread (the queue drains between rounds);
 *  2. warm sync throughput of hello (16 keep-alive connections, default settings), alternated
 *     pairs of short runs, and the median of the paired PostgreSQL/SQLite ratios.
 * PostgreSQL is a throwaway server (test/support/postgres.ts) unless KUMO_TEST_POSTGRES names one.
 * measureStores is exported for bench/run.ts; run directly, this prints a Markdown table.
 */
import autocannon from 'autocannon';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../test/support/postgres.ts';
import { inQueue, kumoCli, startKumo, stopKumo, type KumoProcess } from './kumo-process.ts';

/** How the store benchmark runs. */
export interface StoreBenchOptions {
  /** Clients posting async invocations at once (default 64). */
  enqueueConnections?: number;
  /** Seconds of one enqueue round (default 5). */
  enqueueSeconds?: number;
  /** Enqueue rounds per backend (default 3). */
  enqueueRounds?: number;
  /** Keep-alive connections of the sync runs (default 16). */
  syncConnections?: number;
  /** Seconds of one sync run (default 2). */
  syncSeconds?: number;
  /** Sync runs per backend (default 6). */
  syncRounds?: number;
}

/** One backend's figures. */
export interface BackendFigures {
  /** Accepted (202) async invocations per second, one per round. */
  enqueue: number[];
  /** Warm sync requests per second, one per run. */
  sync: number[];
  /** Enqueue latency p99 (ms) per round. */
  enqueueP99: number[];
  /** Non-2xx answers and errors during the enqueue rounds. */
  refused: number;
}

/** What measureStores measured. */
export interface StoreBenchResult {
  sqlite: BackendFigures;
  postgres: BackendFigures;
  /** PostgreSQL/SQLite warm sync throughput, one per pair of runs. */
  syncRatios: number[];
  /** The table rows: measurement, figure, note. */
  rows: string[][];
}

/** Median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** Starts kumo with `args` and deploys hello. */
async function startServer(work: string, name: string, args: string[]): Promise<KumoProcess> {
  const server = await startKumo(path.join(work, name), [
    // The enqueue rounds measure intake, not the queue bounds: let the queue hold them all.
    '--queue-max',
    '1000000',
    '--queue-max-total',
    '1000000',
    ...args,
  ]);
  const fn = path.join(work, `fn-${name}`);
  await mkdir(fn, { recursive: true });
  await writeFile(path.join(fn, 'kumo.yaml'), 'name: hello\n');
  await writeFile(
    path.join(fn, 'index.js'),
    "export default { fetch() { return new Response('Hello, World!'); } };\n",
  );
  const deployed = await kumoCli(server.url, server.key, ['deploy', fn]);
  if (deployed.code !== 0) throw new Error(`deploy failed (${deployed.code}):\n${deployed.out}`);
  return server;
}

async function drained(s: KumoProcess): Promise<void> {
  while ((await inQueue(s)) > 0) await new Promise((r) => setTimeout(r, 200));
}

async function enqueueRound(
  s: KumoProcess,
  connections: number,
  seconds: number,
): Promise<{ rate: number; p99: number; refused: number }> {
  const t0 = performance.now();
  const r = await autocannon({
    url: `${s.url}/async/fn/hello`,
    method: 'POST',
    body: '{"n":1}',
    connections,
    duration: seconds,
  });
  const ms = performance.now() - t0;
  return { rate: r['2xx'] / (ms / 1000), p99: r.latency.p99, refused: r.non2xx + r.errors };
}

async function syncRun(s: KumoProcess, connections: number, seconds: number): Promise<number> {
  const r = await autocannon({ url: `${s.url}/fn/hello`, connections, duration: seconds });
  return r.requests.total / seconds;
}

/** Runs both measurements on SQLite and PostgreSQL; see the file's comment. */
export async function measureStores(options: StoreBenchOptions = {}): Promise<StoreBenchResult> {
  const o = {
    enqueueConnections: 64,
    enqueueSeconds: 5,
    enqueueRounds: 3,
    syncConnections: 16,
    syncSeconds: 2,
    syncRounds: 6,
    ...options,
  };
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-store-'));
  await chmod(work, 0o711);
  // Durable commits (fsync on), as in production: a 202 means the write is on disk.
  const pg = await startPostgres({ durable: true });
  const servers: KumoProcess[] = [];
  try {
    const sqlite = await startServer(work, 'sqlite', []);
    servers.push(sqlite);
    const postgres = await startServer(work, 'postgres', ['--store', await pg.createDatabase()]);
    servers.push(postgres);
    const figures = {
      sqlite: { enqueue: [], sync: [], enqueueP99: [], refused: 0 } as BackendFigures,
      postgres: { enqueue: [], sync: [], enqueueP99: [], refused: 0 } as BackendFigures,
    };
    const both = [
      ['sqlite', sqlite],
      ['postgres', postgres],
    ] as const;

    // 1. Enqueue rounds, alternating which backend goes first; each drains before the next round.
    for (let round = 0; round < o.enqueueRounds; round++) {
      for (const [name, s] of round % 2 === 0 ? both : [...both].reverse()) {
        const r = await enqueueRound(s, o.enqueueConnections, o.enqueueSeconds);
        figures[name].enqueue.push(r.rate);
        figures[name].enqueueP99.push(r.p99);
        figures[name].refused += r.refused;
        await drained(s);
      }
    }

    // 2. Warm sync: a warm-up each, then alternated pairs of runs.
    for (const [, s] of both) await syncRun(s, o.syncConnections, 1);
    const ratios: number[] = [];
    for (let round = 0; round < o.syncRounds; round++) {
      const got: Record<string, number> = {};
      for (const [name, s] of round % 2 === 0 ? both : [...both].reverse())
        got[name] = await syncRun(s, o.syncConnections, o.syncSeconds);
      figures.sqlite.sync.push(got.sqlite ?? NaN);
      figures.postgres.sync.push(got.postgres ?? NaN);
      ratios.push((got.postgres ?? NaN) / (got.sqlite ?? NaN));
    }

    const spread = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
    const rows: string[][] = [];
    for (const [name] of both) {
      const f = figures[name];
      rows.push([
        `durable async enqueue, ${name === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (202 after commit)`,
        `${Math.round(median(f.enqueue))}/s`,
        `median of ${o.enqueueRounds} rounds of ${o.enqueueSeconds}s, spread ${spread(f.enqueue)}/s; p99 ${f.enqueueP99.join('/')} ms; ${f.refused} refused/failed${name === 'postgres' ? '; target ≥ 2000/s' : ''}`,
      ]);
    }
    for (const [name] of both) {
      const f = figures[name];
      rows.push([
        `warm sync hello, ${name === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
        `${Math.round(median(f.sync))} req/s`,
        `median of ${o.syncRounds} runs of ${o.syncSeconds}s, spread ${spread(f.sync)} req/s`,
      ]);
    }
    rows.push([
      'warm sync, PostgreSQL / SQLite',
      `${(median(ratios) * 100).toFixed(0)}%`,
      `median of paired runs (${ratios.map((r) => r.toFixed(2)).join(' ')}); target ≥ 90%`,
    ]);
    return { ...figures, syncRatios: ratios, rows };
  } finally {
    for (const s of servers) await stopKumo(s.child).catch(() => s.child.kill('SIGKILL'));
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Prints the table with the machine. */
async function main(): Promise<void> {
  const result = await measureStores();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}; PostgreSQL on the same machine\n`,
  );
  console.log('| measurement | figure | note |');
  console.log('|---|---:|---|');
  for (const row of result.rows) console.log(`| ${row.join(' | ')} |`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
