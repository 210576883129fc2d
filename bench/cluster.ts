/**
 * The cluster benchmark, `npm run bench:cluster` (issue 14's targets), in one run on this machine:
 *  1. durable async enqueue on PostgreSQL and on SQLite, and warm sync of one node on PostgreSQL
 *     against the same node on SQLite, side by side (bench/store.ts's measurement, shorter rounds);
 *  2. deploy live on all nodes: three nodes on one PostgreSQL, a new version deployed through A
 *     each round; for B and C, the time from A's deploy answer until the node has switched its
 *     routing to the new version (its log line; what "live" means) and until it first answers
 *     with it (that adds the node's cold start of the new version), both counted from A's log
 *     line of the deploy (A has made the version active); p50 and spread over rounds.
 * PostgreSQL is a throwaway server (test/support/postgres.ts) unless KUMO_TEST_POSTGRES names one.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../test/support/postgres.ts';
import { kumoCli, percentile, ROOT, spawnUntil, stopKumo } from './kumo-process.ts';
import { measureStores, median } from './store.ts';

const DEPLOY_ROUNDS = Number(process.env.BENCH_DEPLOY_ROUNDS ?? 7);

interface Node {
  id: string;
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts node `id` on `store` with its own data folder under `work`. */
async function startNode(work: string, id: string, store: string): Promise<Node> {
  const dataDir = path.join(work, id);
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const { child, match } = await spawnUntil(
    process.execPath,
    [
      path.join(ROOT, 'bin/kumo.js'),
      'up',
      '--port',
      '0',
      '--data',
      dataDir,
      '--store',
      store,
      '--node-id',
      id,
    ],
    /kumo is listening url=(\S+)/,
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { id, child, url: match[1] ?? '', output: () => out };
}

/** Node `n`'s log lines that it deployed / switched to a version of `live`. */
const DEPLOYED = 'INFO  deployed function=live';
const SWITCHED = 'cluster: serving a version';

/** When node `n` logged `what` about `version` (ms since epoch), or undefined. */
function loggedAt(n: Node, what: string, version: number): number | undefined {
  const line = n
    .output()
    .split('\n')
    .findLast((l) => l.includes(what) && l.includes(` version=${version} `));
  return line ? Date.parse(line.slice(0, 24)) : undefined;
}

async function servedAt(n: Node, text: string, limitMs = 30_000): Promise<number> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    const r = await fetch(`${n.url}/fn/live`).catch(() => undefined);
    if (r && r.status === 200 && (await r.text()) === text) return Date.now();
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`${n.id} never served ${text}`);
}

/** Deploy-live rounds on three nodes; the table rows. */
/** Deploy live on all nodes: the table rows and the switch p50 (ms). */
async function measureDeployLive(): Promise<{ rows: string[][]; switchedP50: number }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-cluster-'));
  await chmod(work, 0o711);
  process.env.KUMO_SECRETS_KEY ??= randomBytes(32).toString('base64');
  // Durable commits (fsync on), as in production: a 202 means the write is on disk.
  const pg = await startPostgres({ durable: true });
  const nodes: Node[] = [];
  try {
    const store = await pg.createDatabase();
    for (const id of ['a', 'b', 'c']) nodes.push(await startNode(work, id, store));
    const [a, b, c] = nodes as [Node, Node, Node];
    const key = (await readFile(path.join(work, 'a', 'admin.key'), 'utf8')).trim();
    const switched: number[] = [];
    const served: number[] = [];
    for (let v = 1; v <= DEPLOY_ROUNDS; v++) {
      const fn = path.join(work, `fn-${v}`);
      await mkdir(fn, { recursive: true });
      await writeFile(path.join(fn, 'kumo.yaml'), 'name: live\n');
      await writeFile(path.join(fn, 'index.js'), `export default { fetch: () => new Response('v${v}') };\n`);
      const deployed = await kumoCli(a.url, key, ['deploy', fn]);
      if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.out}`);
      // From the moment A made the version active (its log line), not from the CLI's exit.
      const t0 = loggedAt(a, DEPLOYED, v) ?? Date.now();
      const firsts = await Promise.all([servedAt(b, `v${v}`), servedAt(c, `v${v}`)]);
      // The first version is a first deploy everywhere: the rounds after it are the redeploys.
      if (v === 1) continue;
      served.push(Math.max(...firsts) - t0);
      const sw = [loggedAt(b, SWITCHED, v), loggedAt(c, SWITCHED, v)];
      if (sw.every((t) => t !== undefined)) switched.push(Math.max(0, Math.max(...(sw as number[])) - t0));
    }
    const fmt = (xs: number[]) =>
      `p50 ${Math.round(percentile(xs, 50))} ms, spread ${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} ms`;
    const rows = [
      [
        'deploy live on all nodes (B and C switched), 3 nodes on PostgreSQL',
        `${Math.round(percentile(switched, 50))} ms`,
        `${fmt(switched)} over ${switched.length} redeploys; target p50 ≤ 1000 ms`,
      ],
      [
        'deploy answered by all nodes (switch + cold start of the new version)',
        `${Math.round(percentile(served, 50))} ms`,
        `${fmt(served)}`,
      ],
    ];
    return { rows, switchedP50: percentile(switched, 50) };
  } finally {
    for (const n of nodes) await stopKumo(n.child).catch(() => n.child.kill('SIGKILL'));
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** A target against the run: what, this run's figure, met. */
export type Target = [string, string, boolean];

/** Issue 14's measurements: the table rows (measurement, figure, note) and the targets. */
export async function measureCluster(): Promise<{ rows: string[][]; targets: Target[] }> {
  const stores = await measureStores({ enqueueSeconds: 4, enqueueRounds: 3, syncSeconds: 3, syncRounds: 6 });
  const live = await measureDeployLive();
  // The same medians as the table's rows.
  const enqueue = median(stores.postgres.enqueue);
  const ratio = median(stores.syncRatios);
  return {
    rows: [...stores.rows, ...live.rows],
    targets: [
      ['async enqueue on PostgreSQL ≥ 2,000/s', `${Math.round(enqueue)}/s`, enqueue >= 2000],
      ['warm sync of one node on PostgreSQL ≥ 90% of SQLite', `${(ratio * 100).toFixed(0)}%`, ratio >= 0.9],
      ['deploy live on all nodes p50 ≤ 1 s', `${Math.round(live.switchedP50)} ms`, live.switchedP50 <= 1000],
    ],
  };
}

/** Runs every measurement and prints one table with the machine. */
async function main(): Promise<void> {
  const cluster = await measureCluster();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}; PostgreSQL on the same machine\n`,
  );
  console.log('| measurement | figure | note |');
  console.log('|---|---:|---|');
  for (const row of cluster.rows) console.log(`| ${row.join(' | ')} |`);
  console.log('\n| target | this run | met |\n|---|---:|---|');
  for (const [what, value, met] of cluster.targets)
    console.log(`| ${what} | ${value} | ${met ? 'yes' : 'no'} |`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
