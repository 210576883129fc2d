/** Starting and driving kumo as its own process, for the benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Extra `kumo up` arguments for every benchmark server (BENCH_KUMO_ARGS). */
export const KUMO_ARGS = (process.env.BENCH_KUMO_ARGS ?? '').split(' ').filter(Boolean);

/** Spawns a process and resolves once `ready` matches its output. */
export function spawnUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
  cwd = ROOT,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) resolve({ child, match: m });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}:\n${out}`)));
  });
}

/** A running kumo server. */
export interface KumoProcess {
  child: ChildProcess;
  url: string;
  /** The folder of its instances' socket folders. */
  runDir: string;
  /** Its first-start admin key. */
  key: string;
}

/**
 * Starts `kumo up` on a free port with its data in `dataDir`, BENCH_KUMO_ARGS and `args`, from the
 * checkout at `repo` (this one by default; bench:versus passes an earlier commit's worktree).
 */
export async function startKumo(dataDir: string, args: string[] = [], repo = ROOT): Promise<KumoProcess> {
  const { child, match } = await spawnUntil(
    process.execPath,
    [path.join(repo, 'bin/kumo.js'), 'up', '--port', '0', '--data', dataDir, ...KUMO_ARGS, ...args],
    /kumo is listening url=(\S+).* run=(\S+)/,
    repo,
  );
  const key = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
  return { child, url: match[1] ?? '', runDir: match[2] ?? '', key };
}

/** Runs the CLI of the checkout at `repo` (this one by default) against `url` with `key`. */
export function kumoCli(
  url: string,
  key: string,
  args: string[],
  repo = ROOT,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/kumo.js'), ...args], {
      cwd: repo,
      env: { ...process.env, KUMO_URL: url, KUMO_API_KEY: key },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The nearest-rank percentile `p` (0–100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** CPU time (user + system) process `pid` has used so far, in µs, from /proc (clock ticks of 10 ms). */
export async function processCpuUs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // the command name is in parentheses and may hold spaces: count fields after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** How long `fn` takes, in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Waits until function `name` has no instance left on the server (its idle time has passed). */
export async function scaledToZero(k: { url: string; key: string }, name: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${k.url}/api/v1/functions/${name}`, {
      headers: { authorization: `Bearer ${k.key}` },
    });
    const info = (await res.json()) as { instances: { total: number } };
    if (info.instances.total === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a server with SIGTERM and waits for it to exit. */
export async function stopKumo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Queued plus running async invocations of a server, from its /metrics. */
export async function inQueue(k: { url: string; key: string }): Promise<number> {
  const text = await (
    await fetch(`${k.url}/metrics`, { headers: { authorization: `Bearer ${k.key}` } })
  ).text();
  let n = 0;
  for (const m of text.matchAll(/^kumo_queue_depth\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}
