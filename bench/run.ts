/**
 * kumo's benchmark, one command: `npm run bench`. Everything is measured in the same run on this
 * machine, against baselines: a raw node:http hello server (the ceiling) and the function's own
 * instance reached directly on its Unix socket (to isolate the gateway's cost).
 *
 * Prints a Markdown table (paste it into the README with the machine line).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KUMO = path.join(ROOT, 'bin/kumo.js');
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const COLD_TRIALS = Number(process.env.BENCH_COLD_TRIALS ?? 20);
const DEPLOY_TRIALS = Number(process.env.BENCH_DEPLOY_TRIALS ?? 5);
const KUMO_ARGS = (process.env.BENCH_KUMO_ARGS ?? '').split(' ').filter(Boolean);

interface Row {
  what: string;
  rps: number | undefined;
  p50: number;
  p99: number;
  note: string;
}

/** Spawns a process and resolves once `ready` matches its output. */
async function spawnUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Runs the CLI against `url` with the server's admin key (read from its first-start key file). */
function kumoCli(url: string, key: string, args: string[]): Promise<{ code: number | null; out: string }> {
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

/** Progress on stderr, so a slow step is visible and the table on stdout stays clean. */
function step(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function load(what: string, url: string, note: string, socketPath?: string): Promise<Row> {
  step(`load: ${what}`);
  // A short warm-up so every target is measured warm.
  await autocannon({ url, connections: CONNECTIONS, duration: 1, ...(socketPath ? { socketPath } : {}) });
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    ...(socketPath ? { socketPath } : {}),
  });
  const bad = r.non2xx + r.errors + r.timeouts;
  return {
    what,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    note: bad ? `${note}; ${bad} failed` : note,
  };
}

/** The headers the gateway adds, which an instance expects on every request. */
function platformHeaders(): Record<string, string> {
  return { 'x-kumo-invocation-id': randomUUID(), 'x-kumo-deadline': String(Date.now() + 30_000) };
}

/**
 * Throughput of the instance reached directly on its Unix socket, with `CONNECTIONS` keep-alive
 * clients for `DURATION` seconds (autocannon's socketPath mode stalls against these sockets).
 */
async function loadSocket(what: string, socketPath: string, note: string): Promise<Row> {
  step(`load: ${what}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const times: number[] = [];
  let failed = 0;
  const until = performance.now() + DURATION * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const req = http.request({ agent, socketPath, path: '/', headers: platformHeaders() }, (res) => {
          if (res.statusCode !== 200) failed++;
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', () => {
          failed++;
          resolve();
        });
        req.end();
      });
      times.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return {
    what,
    rps: times.length / DURATION,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    note: failed ? `${note}; ${failed} failed` : `${note}; node:http client`,
  };
}

/** Latency of one request at a time over a kept-alive connection: the cost of a hop without queueing. */
async function sequential(
  target: { port?: number; socketPath?: string; path: string },
  n = 2000,
): Promise<{ p50: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { agent, host: '127.0.0.1', ...target, headers: target.socketPath ? platformHeaders() : {} },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
    times.push(performance.now() - t0);
  }
  agent.destroy();
  return { p50: percentile(times.slice(n / 10), 50), p99: percentile(times.slice(n / 10), 99) };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-'));
  await chmod(work, 0o711);
  const children: ChildProcess[] = [];
  try {
    const rows: Row[] = [];
    let overhead: number | undefined;
    // 1. The ceiling: raw node:http hello on this machine.
    const raw = await spawnUntil(
      process.execPath,
      [
        '-e',
        "require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain'});s.end('Hello, World!')}).listen(0,'127.0.0.1',function(){console.log('port='+this.address().port)})",
      ],
      /port=(\d+)/,
    );
    children.push(raw.child);
    rows.push(await load('raw node:http hello (ceiling)', `http://127.0.0.1:${raw.match[1]}/`, 'baseline'));
    raw.child.kill();

    // 2. kumo, sandboxed (the default) and then without the sandbox, same functions, same run.
    for (const mode of ['sandboxed', 'no sandbox'] as const) {
      const args = mode === 'sandboxed' ? KUMO_ARGS : [...KUMO_ARGS, '--insecure-no-sandbox'];
      const data = path.join(work, `data-${mode === 'sandboxed' ? 'sb' : 'nosb'}`);
      const server = await spawnUntil(
        process.execPath,
        [KUMO, 'up', '--port', '0', '--data', data, ...args],
        /kumo is listening url=(\S+).* run=(\S+)/,
      );
      children.push(server.child);
      const url = server.match[1] ?? '';
      const runDir = server.match[2] ?? '';
      const key = (await readFile(path.join(data, 'admin.key'), 'utf8')).trim();
      const fnDir = await writeFn(work, 'hello', 'concurrency: 32\ninstances:\n  max: 1\n', 'Hello, World!');
      const deployed = await kumoCli(url, key, ['deploy', fnDir]);
      if (deployed.code !== 0) throw new Error(deployed.out);
      rows.push(await load(`kumo → hello, warm (${mode})`, `${url}/fn/hello`, 'gateway + instance'));

      if (mode === 'sandboxed') {
        const instDir = (await readdir(runDir)).find((d) => d.startsWith('hello-') && !d.endsWith('.host'));
        if (instDir) {
          const socketPath = path.join(runDir, instDir, 'fn.sock');
          rows.push(await loadSocket('hello instance direct (Unix socket)', socketPath, 'no gateway'));
          const port = Number(new URL(url).port);
          step('one request at a time: via kumo, then direct');
          const viaGateway = await sequential({ port, path: '/fn/hello' });
          const direct = await sequential({ socketPath, path: '/' });
          rows.push({
            what: 'one request at a time via kumo',
            rps: undefined,
            ...viaGateway,
            note: 'keep-alive, no queueing',
          });
          rows.push({
            what: 'one request at a time, instance direct',
            rps: undefined,
            ...direct,
            note: 'keep-alive, no queueing',
          });
          overhead = viaGateway.p50 - direct.p50;
        }
      }

      step('cold starts');
      // Cold start: the first request after scale to zero.
      await writeFn(work, 'cold', 'instances:\n  idle: 1s\n', 'cold');
      if ((await kumoCli(url, key, ['deploy', path.join(work, 'cold')])).code !== 0)
        throw new Error('cold deploy failed');
      const colds: number[] = [];
      for (let i = 0; i < COLD_TRIALS; i++) {
        for (;;) {
          const info = (await (
            await fetch(`${url}/api/v1/functions/cold`, { headers: { authorization: `Bearer ${key}` } })
          ).json()) as {
            instances: { total: number };
          };
          if (info.instances.total === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        colds.push(await timed(async () => (await fetch(`${url}/fn/cold`)).text()));
      }
      rows.push({
        what: `cold start after scale to zero, ${COLD_TRIALS} trials (${mode})`,
        rps: undefined,
        p50: percentile(colds, 50),
        p99: percentile(colds, 99),
        note: 'spawn + load + answer',
      });

      if (mode === 'sandboxed') {
        // Deploy of a small function, end to end through the CLI.
        const deploys: number[] = [];
        for (let i = 0; i < DEPLOY_TRIALS; i++) {
          await writeFn(work, 'hello', 'concurrency: 32\ninstances:\n  max: 1\n', `Hello ${i}`);
          deploys.push(
            await timed(async () => {
              const r = await kumoCli(url, key, ['deploy', fnDir]);
              if (r.code !== 0) throw new Error(r.out);
            }),
          );
        }
        rows.push({
          what: `deploy of a small function, CLI end to end (${DEPLOY_TRIALS} trials)`,
          rps: undefined,
          p50: percentile(deploys, 50),
          p99: percentile(deploys, 99),
          note: 'package, upload, build, start',
        });
      }
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
    printTable(rows, overhead);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes a one-file hello function answering `text`. */
async function writeFn(work: string, name: string, manifest: string, text: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'kumo.yaml'), `name: ${name}\n${manifest}`);
  await writeFile(
    path.join(dir, 'index.js'),
    `export default { fetch() { return new Response(${JSON.stringify(text)}); } };\n`,
  );
  return dir;
}

function printTable(rows: Row[], overhead: number | undefined): void {
  const ceiling = rows[0]?.rps ?? NaN;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`,
  );
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION}s per target\n`);
  console.log('| measurement | req/s | vs ceiling | p50 ms | p99 ms | note |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const ratio = r.rps === undefined ? '' : `${Math.round((r.rps / ceiling) * 100)}%`;
    console.log(
      `| ${r.what} | ${r.rps === undefined ? '' : Math.round(r.rps)} | ${ratio} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.note} |`,
    );
  }
  if (overhead !== undefined)
    console.log(
      `\nGateway overhead (kumo vs instance direct, one request at a time), p50: ${overhead.toFixed(2)} ms`,
    );
}

await main();
