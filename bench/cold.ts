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
import { fileURLToPath } from 'node:url';
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
  starting: number;
  hits: number;
  misses: number;
}

async function cellStats(k: KumoProcess): Promise<CellStats | undefined> {
  const res = await fetch(`${k.url}/api/v1/status`, { headers: { authorization: `Bearer ${k.key}` } });
  return ((await res.json()) as { stemCells?: CellStats }).stemCells;
}

/** Waits for the state a cold start after a quiet period finds: no instance, a cell ready and none starting (if on). */
async function quiet(k: Server, names: string[], cellsWanted: number): Promise<void> {
  for (const name of names) await scaledToZero(k, name);
  if (!k.cells) return;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const c = await cellStats(k);
    // Quiet: a cell ready and none booting (a replacement still starting would share the CPUs).
    if ((c?.ready ?? 0) >= cellsWanted && (c?.starting ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The time of `name`'s first request; a failed one (a start past its timeout) counts as infinite. */
async function first(k: KumoProcess, name: string): Promise<number> {
  let ok = true;
  const ms = await timed(async () => {
    const res = await fetch(`${k.url}/fn/${name}`);
    await res.text();
    ok = res.status === 200;
  });
  if (!ok) step(`${name}: first request failed`);
  return ok ? ms : Number.POSITIVE_INFINITY;
}

export interface ColdRow {
  what: string;
  cells: number[];
  plain: number[];
}

/** What measureCold measured: a row per runtime and the burst, and the cells' counts at the end. */
export interface ColdResult {
  rows: ColdRow[];
  stats: CellStats | undefined;
}

/** The cold-start trials and the burst, on a server with stem cells beside one without. */
export async function measureCold(): Promise<ColdResult> {
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
    const rows: ColdRow[] = [];
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
    return { rows, stats };
  } finally {
    for (const k of servers) await stopKumo(k.child);
    await rm(work, { recursive: true, force: true });
  }
}

function ms(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : '–';
}

/** The Markdown table of `result`. */
export function coldTable(result: ColdResult): string[] {
  const lines = [
    '| what | stem cells p50 (ms) | p99 | without p50 (ms) | p99 | p50 ratio |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of result.rows) {
    const [c50, c99, p50, p99] = [
      percentile(r.cells, 50),
      percentile(r.cells, 99),
      percentile(r.plain, 50),
      percentile(r.plain, 99),
    ];
    lines.push(
      `| ${r.what} | ${ms(c50)} | ${ms(c99)} | ${ms(p50)} | ${ms(p99)} | ${(p50 / c50).toFixed(1)}× |`,
    );
  }
  if (result.stats) lines.push('', `stem cells of the server: ${JSON.stringify(result.stats)}`);
  return lines;
}

/** Issue 15's cold-start targets against `result` (stem cells on): what, figure, met. */
export function coldTargets(result: ColdResult): [string, string, boolean][] {
  const get = (part: string) => result.rows.find((r) => r.what.includes(part));
  const out: [string, string, boolean][] = [];
  const target = (what: string, row: ColdRow | undefined, p: number, limit: number) => {
    if (!row) return;
    const value = percentile(row.cells, p);
    out.push([`${what} ≤ ${limit} ms`, `${ms(value)} ms`, value <= limit]);
  };
  target('cold start after scale to zero, node hello, p50', get('node hello'), 50, 10);
  target('cold start after scale to zero, node hello, p99', get('node hello'), 99, 30);
  target('cold start after scale to zero, python hello, p50', get('python hello'), 50, 20);
  target('cold start after scale to zero, lua hello, p50', get('lua hello'), 50, 20);
  target(`${BURST} different functions' first requests at once, p50`, get('different functions'), 50, 50);
  return out;
}

async function main(): Promise<void> {
  const result = await measureCold();
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
  for (const line of coldTable(result)) console.log(line);
  console.log('\n| target (stem cells on) | this run | met |\n|---|---:|---|');
  for (const [what, value, met] of coldTargets(result))
    console.log(`| ${what} | ${value} | ${met ? 'yes' : 'no'} |`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
