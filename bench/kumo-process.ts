/** Starting and driving kumo as its own process, for the benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KUMO = path.join(ROOT, 'bin/kumo.js');
/** Extra `kumo up` arguments for every benchmark server (BENCH_KUMO_ARGS). */
export const KUMO_ARGS = (process.env.BENCH_KUMO_ARGS ?? '').split(' ').filter(Boolean);

/** Spawns a process and resolves once `ready` matches its output. */
export function spawnUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Starts `kumo up` on a free port with its data in `dataDir`, BENCH_KUMO_ARGS and `args`. */
export async function startKumo(dataDir: string, args: string[] = []): Promise<KumoProcess> {
  const { child, match } = await spawnUntil(
    process.execPath,
    [KUMO, 'up', '--port', '0', '--data', dataDir, ...KUMO_ARGS, ...args],
    /kumo is listening url=(\S+).* run=(\S+)/,
  );
  const key = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
  return { child, url: match[1] ?? '', runDir: match[2] ?? '', key };
}

/** Runs the CLI against `url` with `key`. */
export function kumoCli(
  url: string,
  key: string,
  args: string[],
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KUMO, ...args], {
      cwd: ROOT,
      env: { ...process.env, KUMO_URL: url, KUMO_API_KEY: key },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Stops a server with SIGTERM and waits for it to exit. */
export async function stopKumo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
