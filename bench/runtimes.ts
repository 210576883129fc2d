/**
 * Warm throughput of a hello function in each runtime, beside node's, in the same run on this
 * machine: `node bench/runtimes.ts` (BENCH_DURATION seconds per target, BENCH_CONNECTIONS
 * connections, BENCH_KUMO_ARGS passed to `kumo up`, e.g. "--insecure-no-sandbox").
 * Every function gets the same settings (one warm instance, up to 2, 8 requests each at once), and
 * is reached through the gateway at /fn/NAME, as a client would. The lua action server's README
 * claims ~3,000 req/s; the table shows lua against that target and against node.
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KUMO_ARGS, kumoCli, startKumo, stopKumo } from './kumo-process.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const LUA_TARGET = 3000;

const SETTINGS = 'concurrency: 8\ninstances:\n  min: 1\n  max: 2\n';

/** The hello function of each runtime: files of its folder. */
const HELLOS: Record<string, Record<string, string>> = {
  node: {
    'kumo.yaml': `name: hello-node-bench\n${SETTINGS}`,
    'index.mjs': "export default { fetch() { return new Response('Hello, World!'); } };\n",
  },
  python: {
    'kumo.yaml': `name: hello-python-bench\nruntime: python\n${SETTINGS}`,
    'lambda.py': 'def main(input, environment):\n    return "Hello, World!"\n',
  },
  lua: {
    'kumo.yaml': `name: hello-lua-bench\nruntime: lua\n${SETTINGS}`,
    'hello.lua': "function main(args) return 'Hello, World!' end\n",
  },
  exec: { 'kumo.yaml': `name: hello-exec-bench\nruntime: exec\ncommand: [echo, Hello, World!]\n${SETTINGS}` },
};

async function measure(url: string): Promise<{ rps: number; p50: number; p99: number; failed: number }> {
  await autocannon({ url, connections: CONNECTIONS, duration: 1 });
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.non2xx + r.errors + r.timeouts,
  };
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-rt-'));
  await chmod(work, 0o711);
  let server: ChildProcess | undefined;
  try {
    const up = await startKumo(path.join(work, 'data'));
    server = up.child;
    const { url, key } = up;
    const rows: { runtime: string; rps: number; p50: number; p99: number; failed: number }[] = [];
    for (const [runtime, files] of Object.entries(HELLOS)) {
      const dir = path.join(work, runtime);
      await mkdir(dir);
      for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content);
      const deployed = await kumoCli(url, key, ['deploy', dir]);
      if (deployed.code !== 0) throw new Error(`deploy of the ${runtime} hello failed:\n${deployed.out}`);
      const name = /name: (\S+)/.exec(files['kumo.yaml'] ?? '')?.[1] ?? '';
      rows.push({ runtime, ...(await measure(`${url}/fn/${name}/`)) });
    }
    const node = rows.find((r) => r.runtime === 'node')?.rps ?? NaN;
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${DURATION}s × ${CONNECTIONS} connections, args: ${KUMO_ARGS.join(' ') || '(sandboxed)'}\n`,
    );
    console.log('| runtime | req/s | vs node | p50 ms | p99 ms | note |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const r of rows) {
      const note = [
        r.failed ? `${r.failed} failed` : '',
        r.runtime === 'lua' ? `target ${LUA_TARGET} req/s: ${r.rps >= LUA_TARGET ? 'met' : 'NOT met'}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      console.log(
        `| ${r.runtime} | ${Math.round(r.rps)} | ${(r.rps / node).toFixed(2)} | ${r.p50} | ${r.p99} | ${note} |`,
      );
    }
  } finally {
    if (server) await stopKumo(server);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
