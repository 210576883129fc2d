/**
 * This checkout against an earlier commit, side by side: `npm run bench:versus -- REF`.
 * REF is checked out into a temporary git worktree (sharing this node_modules); both servers start
 * with default settings (sandboxed), get the same small node function through their own CLI, and
 * then cold starts and deploys alternate between them, trial by trial, so machine noise hits both.
 * Prints a Markdown table of p50, min and max per server.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  kumoCli,
  percentile,
  ROOT,
  scaledToZero,
  startKumo,
  stopKumo,
  timed,
  type KumoProcess,
} from './kumo-process.ts';

const REF = process.argv[2];
const TRIALS = Number(process.env.BENCH_VERSUS_TRIALS ?? 15);
if (!REF) {
  process.stderr.write('usage: npm run bench:versus -- REF (a commit, branch or tag to compare with)\n');
  process.exit(2);
}

interface Side extends KumoProcess {
  label: string;
  repo: string;
  cold: number[];
  deploy: number[];
}

/** Runs `side`'s own CLI against it; throws with its output when it fails. */
async function cli(side: Side, args: string[]): Promise<void> {
  const r = await kumoCli(side.url, side.key, args, side.repo);
  if (r.code !== 0) throw new Error(`kumo ${args[0]} failed:\n${r.out}`);
}

async function start(label: string, repo: string, data: string): Promise<Side> {
  return { ...(await startKumo(data, [], repo)), label, repo, cold: [], deploy: [] };
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
  const [p50, min, max] = [percentile(values, 50), Math.min(...values), Math.max(...values)];
  return `${p50.toFixed(1)} | ${min.toFixed(1)} | ${max.toFixed(1)}`;
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
      await scaledToZero(side, 'cold');
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
