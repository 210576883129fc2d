/**
 * Invoke through the unmodified AWS SDK (`@aws-sdk/client-lambda`, SigV4, the Lambda API) beside
 * the same call on kumo's own route (`POST /fn/NAME`, a keep-alive node:http client), on one warm
 * function, in the same run: `npm run bench:lambda`. One request at a time (latency, not
 * throughput), BENCH_ROUNDS alternating rounds of BENCH_CALLS calls each after a warm-up, so
 * both see the same machine; the table gives each round's p50/p99 and the median over rounds.
 * Issue 17's target: the SDK adds ≤ 1 ms p50.
 */
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { execFileSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KUMO_ARGS, percentile, processCpuUs, startKumo, stopKumo } from './kumo-process.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CALLS = Number(process.env.BENCH_CALLS ?? 400);
const WARMUP = 100;
const NAME = 'bench-lambda';
const PAYLOAD = JSON.stringify({ name: 'bench' });
const CODE = 'export const handler = async (event) => ({ hello: event.name ?? null });\n';

/** A zip holding index.mjs, made by python's zipfile. */
function zip(): Uint8Array {
  const script = `import base64, io, sys, zipfile
b = io.BytesIO()
with zipfile.ZipFile(b, 'w') as z: z.writestr('index.mjs', sys.stdin.read())
sys.stdout.write(base64.b64encode(b.getvalue()).decode())`;
  return new Uint8Array(
    Buffer.from(execFileSync('python3', ['-c', script], { input: CODE, encoding: 'utf8' }), 'base64'),
  );
}

/** POST /fn/NAME with the payload on a keep-alive agent; resolves with the body. */
function viaRoute(url: URL, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `/fn/${NAME}/`,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PAYLOAD) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode} ${body}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(PAYLOAD);
  });
}

async function timed(n: number, call: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-lambda-'));
  await chmod(work, 0o711);
  let server: ChildProcess | undefined;
  try {
    const up = await startKumo(path.join(work, 'data'));
    server = up.child;
    const created = await fetch(`${up.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${up.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['admin'], aws: true }),
    });
    const key = (await created.json()) as { awsAccessKeyId: string; awsSecretAccessKey: string };
    const client = new LambdaClient({
      endpoint: up.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.awsAccessKeyId, secretAccessKey: key.awsSecretAccessKey },
    });
    await client.send(
      new CreateFunctionCommand({
        FunctionName: NAME,
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::0:role/x',
        Handler: 'index.handler',
        Code: { ZipFile: zip() },
      }),
    );
    const url = new URL(up.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sdk = async () => {
      const out = await client.send(new InvokeCommand({ FunctionName: NAME, Payload: PAYLOAD }));
      if (out.FunctionError) throw new Error(Buffer.from(out.Payload ?? []).toString());
    };
    const route = () => viaRoute(url, agent);
    await timed(WARMUP, sdk);
    await timed(WARMUP, route);
    const pid = server.pid ?? 0;
    // The server's CPU per call: what the Lambda path costs kumo, whatever the load on the machine.
    const measured = async (call: () => Promise<unknown>) => {
      const before = await processCpuUs(pid);
      const times = await timed(CALLS, call);
      return { times, cpuUs: ((await processCpuUs(pid)) - before) / CALLS };
    };
    const rounds: { sdk: number[]; route: number[]; sdkCpu: number; routeCpu: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
      const first = r % 2 ? route : sdk;
      const a = await measured(first);
      const b = await measured(first === sdk ? route : sdk);
      const [s, f] = first === sdk ? [a, b] : [b, a];
      rounds.push({ sdk: s.times, route: f.times, sdkCpu: s.cpuUs, routeCpu: f.cpuUs });
    }
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `\nMachine: ${os.cpus().length} × ${cpu}, Node ${process.version}, ${ROUNDS} rounds × ${CALLS} sequential calls, args: ${KUMO_ARGS.join(' ') || '(sandboxed)'}\n`,
    );
    console.log(
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (a busy machine inflates the SDK's client-side CPU most)\n`,
    );
    console.log(
      '| round | SDK Invoke p50 ms | /fn/NAME p50 ms | added p50 ms | SDK p99 ms | /fn p99 ms | server CPU µs/call SDK | /fn |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    const added: number[] = [];
    rounds.forEach((r, i) => {
      const [s50, f50] = [percentile(r.sdk, 50), percentile(r.route, 50)];
      added.push(s50 - f50);
      console.log(
        `| ${i + 1} | ${s50.toFixed(2)} | ${f50.toFixed(2)} | ${(s50 - f50).toFixed(2)} | ${percentile(r.sdk, 99).toFixed(2)} | ${percentile(r.route, 99).toFixed(2)} | ${r.sdkCpu.toFixed(0)} | ${r.routeCpu.toFixed(0)} |`,
      );
    });
    const med = (xs: number[]) => percentile(xs, 50);
    const all = { sdk: rounds.flatMap((r) => r.sdk), route: rounds.flatMap((r) => r.route) };
    const addedMedian = med(added);
    const cpu2 = { sdk: med(rounds.map((r) => r.sdkCpu)), route: med(rounds.map((r) => r.routeCpu)) };
    console.log(
      `| all | ${med(all.sdk).toFixed(2)} | ${med(all.route).toFixed(2)} | ${addedMedian.toFixed(2)} (rounds ${Math.min(...added).toFixed(2)}–${Math.max(...added).toFixed(2)}) | ${percentile(all.sdk, 99).toFixed(2)} | ${percentile(all.route, 99).toFixed(2)} | ${cpu2.sdk.toFixed(0)} | ${cpu2.route.toFixed(0)} |`,
    );
    console.log(
      `\nTarget (issue 17): the SDK adds ≤ 1 ms p50 — ${addedMedian <= 1 ? 'met' : 'NOT met'} (median of the rounds' p50 differences: ${addedMedian.toFixed(2)} ms)`,
    );
    agent.destroy();
    client.destroy();
  } finally {
    if (server) await stopKumo(server);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
