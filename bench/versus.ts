/**
 * This checkout against an earlier commit, side by side: `npm run bench:versus -- REF`.
 * REF is checked out into a temporary git worktree (sharing this node_modules); both servers start
 * with default settings (sandboxed), get the same small node function through their own CLI, and
 * then cold starts, deploys and warm-throughput rounds (default settings, BENCH_CONNECTIONS keep-alive
 * clients) alternate between them, trial by trial, so machine noise hits both. Prints a Markdown
 * table of p50, min and max per server, and per round the server's CPU µs per request.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  kumoCli,
  percentile,
  processCpuUs,
  ROOT,
  scaledToZero,
  startKumo,
  stopKumo,
  timed,
  type KumoProcess,
} from './kumo-process.ts';

const REF = process.argv[2];
const TRIALS = Number(process.env.BENCH_VERSUS_TRIALS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Manifest lines added to the warm hello (e.g. `concurrency: 32`); none: default settings. */
const HELLO_EXTRA = (process.env.BENCH_VERSUS_HELLO ?? '').replaceAll('\\n', '\n');
if (!REF) {
  process.stderr.write('usage: npm run bench:versus -- REF (a commit, branch or tag to compare with)\n');
  process.exit(2);
}

interface Side extends KumoProcess {
  label: string;
  repo: string;
  cold: number[];
  deploy: number[];
  /** Requests a second, one value a warm round. */
  rps: number[];
  /** The server's CPU µs per request, one value a warm round. */
  cpuUs: number[];
}

/** Runs `side`'s own CLI against it; throws with its output when it fails. */
async function cli(side: Side, args: string[]): Promise<void> {
  const r = await kumoCli(side.url, side.key, args, side.repo);
  if (r.code !== 0) throw new Error(`kumo ${args[0]} failed:\n${r.out}`);
}

async function start(label: string, repo: string, data: string): Promise<Side> {
  return { ...(await startKumo(data, [], repo)), label, repo, cold: [], deploy: [], rps: [], cpuUs: [] };
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

function stats(values: number[], digits = 1): string {
  const [p50, min, max] = [percentile(values, 50), Math.min(...values), Math.max(...values)];
  return `${p50.toFixed(digits)} | ${min.toFixed(digits)} | ${max.toFixed(digits)}`;
}

/** One warm round against `side`'s hello: requests a second and the server's CPU µs a request. */
async function warmRound(side: Side): Promise<void> {
  const url = `${side.url}/fn/hello`;
  await autocannon({ url, connections: CONNECTIONS, duration: 1 });
  const pid = side.child.pid ?? 0;
  const before = await processCpuUs(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION });
  if (r.non2xx + r.errors) throw new Error(`${side.label}: ${r.non2xx + r.errors} failed requests`);
  side.rps.push(r.requests.average);
  side.cpuUs.push(((await processCpuUs(pid)) - before) / Math.max(1, r.requests.total));
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
    await writeFn(hello, 'hello', HELLO_EXTRA, `Hello ${i}`);
    for (const side of sides) side.deploy.push(await timed(() => cli(side, ['deploy', hello])));
  }
  for (let i = 0; i < ROUNDS; i++) for (const side of sides) await warmRound(side);
  process.stdout.write(
    `\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${TRIALS} alternating trials, ` +
      `${ROUNDS} alternating warm rounds of ${DURATION} s at ${CONNECTIONS} connections\n\n` +
      '| server | measurement | p50 | min | max |\n|---|---|---:|---:|---:|\n' +
      sides
        .flatMap((s) => [
          `| ${s.label} | cold start after scale to zero (sandboxed), ms | ${stats(s.cold)} |`,
          `| ${s.label} | deploy of a small function, CLI end to end, ms | ${stats(s.deploy)} |`,
          `| ${s.label} | warm hello, ${HELLO_EXTRA ? 'tuned' : 'default settings'}, req/s | ${stats(s.rps, 0)} |`,
          `| ${s.label} | server CPU per warm request, µs | ${stats(s.cpuUs, 0)} |`,
        ])
        .join('\n') +
      '\n',
  );
} finally {
  for (const side of sides) await stopKumo(side.child);
  execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
  await rm(work, { recursive: true, force: true });
}
