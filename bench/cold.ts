/**
 * Cold starts, `npm run bench:cold`: the first request after scale to zero, on a server with stem
 * cells (the default) beside one without (`--stem-cells 0`), in the same run, trials alternating
 * between them; node, python and lua hello functions; then a burst of first requests to 50
 * different functions at once. Sandbox on, default settings but `instances.idle: 1s` (so a
 * trial does not wait 5 minutes for scale to zero).
 *
 * Each trial waits until the function has no instance and the server has a ready cell again
 * (the state a cold start after a quiet period finds), then times one request end to end.
 * Prints a Markdown table and the issue-15 targets against the run.
 */
import { mkdtemp, mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { create as createTar } from 'tar';
import { percentile, scaledToZero, startKumo, stopKumo, timed, type KumoProcess } from './kumo-process.ts';

const TRIALS = Number(process.env.BENCH_COLD_TRIALS ?? 20);
const BURST = Number(process.env.BENCH_BURST ?? 50);

interface Server extends KumoProcess {
  label: string;
  cells: boolean;
}

const RUNTIMES: Record<string, { manifest: string; files: Record<string, string> }> = {
  node: {
    manifest: '',
    files: { 'index.js': 'export default () => new Response("Hello, World!");\n' },
  },
  python: {
    manifest: 'runtime: python\n',
    files: { 'lambda.py': 'def main(input, environment):\n    return "Hello, World!"\n' },
  },
  lua: {
    manifest: 'runtime: lua\n',
    files: { 'main.lua': 'function main(args)\n  return "Hello, World!"\nend\n' },
  },
};

function step(message: string): void {
  process.stderr.write(`[bench:cold] ${message}\n`);
}

async function deploy(k: KumoProcess, work: string, name: string, runtime: string): Promise<void> {
  const spec = RUNTIMES[runtime];
  if (!spec) throw new Error(`no runtime ${runtime}`);
  const dir = path.join(work, `${name}-${k.url.replace(/\W/g, '')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'kumo.yaml'), `name: ${name}\n${spec.manifest}instances:\n  idle: 1s\n`);
  for (const [file, text] of Object.entries(spec.files)) await writeFile(path.join(dir, file), text);
  const chunks: Buffer[] = [];
  for await (const c of createTar({ gzip: true, cwd: dir, portable: true }, ['.'])) chunks.push(c as Buffer);
  const res = await fetch(`${k.url}/api/v1/functions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/gzip' },
    body: Buffer.concat(chunks),
  });
  if (res.status >= 300) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
}

interface CellStats {
  enabled: boolean;
  ready: number;
  hits: number;
  misses: number;
}

async function cellStats(k: KumoProcess): Promise<CellStats | undefined> {
  const res = await fetch(`${k.url}/api/v1/status`, { headers: { authorization: `Bearer ${k.key}` } });
  return ((await res.json()) as { stemCells?: CellStats }).stemCells;
}

/** Waits for the state a cold start after a quiet period finds: no instance, a cell ready (if on). */
async function quiet(k: Server, names: string[], cellsWanted: number): Promise<void> {
  for (const name of names) await scaledToZero(k, name);
  if (!k.cells) return;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (((await cellStats(k))?.ready ?? 0) >= cellsWanted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function first(k: KumoProcess, name: string): Promise<number> {
  return timed(async () => {
    const res = await fetch(`${k.url}/fn/${name}`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${text}`);
  });
}

interface Row {
  what: string;
  cells: number[];
  plain: number[];
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-cold-'));
  await chmod(work, 0o711);
  const servers: Server[] = [];
  try {
    for (const [label, cells] of [
      ['stem cells', true],
      ['no stem cells', false],
    ] as const) {
      const data = path.join(work, label.replace(/\W/g, '-'));
      await mkdir(data);
      const k = await startKumo(data, cells ? [] : ['--stem-cells', '0']);
      servers.push({ ...k, label, cells });
    }
    const rows: Row[] = [];
    for (const runtime of Object.keys(RUNTIMES)) {
      step(`deploying hello (${runtime})`);
      const name = `hello-${runtime}`;
      for (const k of servers) await deploy(k, work, name, runtime);
      const times = new Map<Server, number[]>(servers.map((k) => [k, []]));
      step(`${TRIALS} cold starts (${runtime}), alternating`);
      for (let i = 0; i < TRIALS; i++) {
        for (const k of servers) {
          await quiet(k, [name], 1);
          times.get(k)?.push(await first(k, name));
        }
      }
      rows.push({
        what: `cold start after scale to zero, ${runtime} hello, ${TRIALS} trials`,
        cells: times.get(servers[0] as Server) ?? [],
        plain: times.get(servers[1] as Server) ?? [],
      });
    }
    step(`deploying ${BURST} functions`);
    const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    for (const n of names) for (const k of servers) await deploy(k, work, n, 'node');
    const burst = new Map<Server, number[]>();
    for (const k of servers) {
      await quiet(k, names, 1);
      step(`burst of ${BURST} first requests (${k.label})`);
      burst.set(k, await Promise.all(names.map((n) => first(k, n))));
    }
    rows.push({
      what: `${BURST} different functions' first requests at once`,
      cells: burst.get(servers[0] as Server) ?? [],
      plain: burst.get(servers[1] as Server) ?? [],
    });
    const stats = await cellStats(servers[0] as Server);
    printTable(rows, stats);
  } finally {
    for (const k of servers) await stopKumo(k.child);
    await rm(work, { recursive: true, force: true });
  }
}

function ms(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : '–';
}

function printTable(rows: Row[], stats: CellStats | undefined): void {
  const cpus = os.cpus();
  console.log(
    `\nmachine: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, ${os.platform()} ${os.release()}, node ${process.version}`,
  );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  console.log('| what | stem cells p50 (ms) | p99 | without p50 (ms) | p99 | p50 ratio |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const [c50, c99, p50, p99] = [
      percentile(r.cells, 50),
      percentile(r.cells, 99),
      percentile(r.plain, 50),
      percentile(r.plain, 99),
    ];
    console.log(
      `| ${r.what} | ${ms(c50)} | ${ms(c99)} | ${ms(p50)} | ${ms(p99)} | ${(p50 / c50).toFixed(1)}× |`,
    );
  }
  if (stats) console.log(`\nstem cells of the server: ${JSON.stringify(stats)}`);
  const get = (prefix: string) => rows.find((r) => r.what.includes(prefix));
  const node = get('node hello');
  const py = get('python hello');
  const lua = get('lua hello');
  const many = get('different functions');
  const target = (what: string, value: number, limit: number) =>
    console.log(`- ${what}: ${ms(value)} ms (target ≤ ${limit}) ${value <= limit ? 'met' : 'NOT met'}`);
  console.log('\nissue 15 targets (stem cells on):');
  if (node) {
    target('node cold p50', percentile(node.cells, 50), 10);
    target('node cold p99', percentile(node.cells, 99), 30);
  }
  if (py) target('python cold p50', percentile(py.cells, 50), 20);
  if (lua) target('lua cold p50', percentile(lua.cells, 50), 20);
  if (many) target(`${BURST} functions p50`, percentile(many.cells, 50), 50);
}

await main();
