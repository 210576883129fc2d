/**
 * This checkout against an earlier commit, side by side: `npm run bench:versus -- REF`.
 * REF is checked out into a temporary git worktree (sharing this node_modules); both servers start
 * with default settings (sandboxed), get the same small node function through their own CLI, and
 * then cold starts and deploys alternate between them, trial by trial, so machine noise hits both.
 * Prints a Markdown table of p50, min and max per server.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, stopKumo } from './kumo-process.ts';

const REF = process.argv[2];
const TRIALS = Number(process.env.BENCH_VERSUS_TRIALS ?? 15);
if (!REF) {
  process.stderr.write('usage: npm run bench:versus -- REF (a commit, branch or tag to compare with)\n');
  process.exit(2);
}

interface Side {
  label: string;
  repo: string;
  child: ChildProcess;
  url: string;
  key: string;
  cold: number[];
  deploy: number[];
}

/** Runs `repo`'s CLI against `side`; throws with its output when it fails. */
function cli(side: { repo: string; url: string; key: string }, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(side.repo, 'bin/kumo.js'), ...args], {
      cwd: side.repo,
      env: { ...process.env, KUMO_URL: side.url, KUMO_API_KEY: side.key },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`kumo ${args[0]} failed:\n${out}`)),
    );
  });
}

async function start(label: string, repo: string, data: string): Promise<Side> {
  const child = spawn(
    process.execPath,
    [path.join(repo, 'bin/kumo.js'), 'up', '--port', '0', '--data', data],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /kumo is listening url=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}:\n${out}`)));
  });
  const key = (await readFile(path.join(data, 'admin.key'), 'utf8')).trim();
  return { label, repo, child, url, key, cold: [], deploy: [] };
}

async function scaledToZero(side: Side): Promise<void> {
  for (;;) {
    const res = await fetch(`${side.url}/api/v1/functions/cold`, {
      headers: { authorization: `Bearer ${side.key}` },
    });
    const info = (await res.json()) as { instances: { total: number } };
    if (info.instances.total === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  await fn();
  return performance.now() - began;
}

async function writeFn(dir: string, name: string, extra: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'kumo.yaml'),
    `name: ${name}\nruntime: node\nhandler: index.handler\n${extra}`,
  );
  await writeFile(
    path.join(dir, 'index.js'),
    `export async function handler() { return ${JSON.stringify(text)}; }\n`,
  );
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return `${at(0.5).toFixed(1)} | ${(s[0] ?? NaN).toFixed(1)} | ${(s[s.length - 1] ?? NaN).toFixed(1)}`;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-versus-'));
const tree = path.join(work, 'ref');
const sides: Side[] = [];
try {
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', tree, REF], { stdio: 'ignore' });
  await symlink(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'));
  const commit = execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  sides.push(await start(`${REF} (${commit})`, tree, path.join(work, 'data-ref')));
  sides.push(await start('this checkout', ROOT, path.join(work, 'data-here')));
  const cold = path.join(work, 'cold');
  await writeFn(cold, 'cold', 'instances:\n  idle: 1s\n', 'cold');
  for (const side of sides) await cli(side, ['deploy', cold]);
  for (let i = 0; i < TRIALS; i++) {
    for (const side of sides) {
      await scaledToZero(side);
      side.cold.push(await timed(async () => (await fetch(`${side.url}/fn/cold`)).text()));
    }
  }
  const hello = path.join(work, 'hello');
  for (let i = 0; i < TRIALS; i++) {
    await writeFn(hello, 'hello', '', `Hello ${i}`);
    for (const side of sides) side.deploy.push(await timed(() => cli(side, ['deploy', hello])));
  }
  process.stdout.write(
    `\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${TRIALS} alternating trials\n\n` +
      '| server | measurement | p50 ms | min ms | max ms |\n|---|---|---:|---:|---:|\n' +
      sides
        .flatMap((s) => [
          `| ${s.label} | cold start after scale to zero (sandboxed) | ${stats(s.cold)} |`,
          `| ${s.label} | deploy of a small function, CLI end to end | ${stats(s.deploy)} |`,
        ])
        .join('\n') +
      '\n',
  );
} finally {
  for (const side of sides) await stopKumo(side.child);
  execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
  await rm(work, { recursive: true, force: true });
}
