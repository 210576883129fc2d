/**
 * Warm invoke latency of custom runtimes through the Lambda Runtime API, beside the same hello on
 * the node runtime, in the same run on this machine: `npm run bench:provided`.
 * One client sends requests one at a time (keep-alive) to /fn/NAME, so each sample is one warm
 * invocation end to end (client → gateway → instance → runtime → back). Targets are measured in
 * alternating rounds (BENCH_ROUNDS rounds of BENCH_REQUESTS requests each, after a warm-up), so
 * machine noise falls on all of them alike; the table shows p50 and p99 over every sample and the
 * spread of the per-round p50s. BENCH_KUMO_ARGS is passed to `kumo up`.
 * Bootstraps: a minimal Node Runtime API client (node:http, keep-alive); the unmodified
 * aws-lambda-ric package (its native libcurl client); a C client on raw sockets when a C
 * compiler is here (the floor of the bridge: the runtime itself costs ~nothing); and AWS's
 * tutorial shape in shell + curl (two curl processes per call).
 * Issue 17's target: custom runtime warm invoke p50 ≤ 2 ms.
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { KUMO_ARGS, kumoCli, percentile, ROOT, startKumo, stopKumo } from './kumo-process.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const TARGET_P50_MS = 2;

const HANDLER = "export const handler = async () => ({ statusCode: 200, body: 'Hello, World!' });\n";
const RESULT = '{"statusCode":200,"body":"Hello, World!"}';

/** A minimal Runtime API client in Node: what a hand-written Node custom runtime does. */
const NODE_BOOTSTRAP = `#!/usr/bin/env node
const http = require('node:http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime/invocation/';
const body = Buffer.from('${RESULT}');
function next() {
  http.get({ host, port, path: base + 'next', agent }, (res) => {
    const id = res.headers['lambda-runtime-aws-request-id'];
    res.resume();
    res.on('end', () => {
      const post = http.request({ host, port, path: base + id + '/response', method: 'POST', agent,
        headers: { 'content-length': body.length } }, (r) => { r.resume(); r.on('end', next); });
      post.end(body);
    });
  });
}
next();
`;

/** The same loop in C on raw sockets (one keep-alive connection, no HTTP library). */
const C_BOOTSTRAP = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <unistd.h>
static char buf[1 << 20];
/* Reads one response (headers + Content-Length body) into buf; returns its length. */
static int readResponse(int fd) {
  int n = 0, need = -1;
  for (;;) {
    int r = read(fd, buf + n, sizeof(buf) - 1 - n);
    if (r <= 0) exit(1);
    n += r; buf[n] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end) continue;
    if (need < 0) {
      char *cl = strcasestr(buf, "content-length:");
      need = (end - buf) + 4 + (cl ? atoi(cl + 15) : 0);
    }
    if (n >= need) return n;
  }
}
int main(void) {
  char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  char *colon = strchr(api, ':');
  *colon = 0;
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
  inet_pton(AF_INET, api, &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) return 1;
  const char *body = "${RESULT.replaceAll('"', '\\"')}";
  char req[512], id[128];
  for (;;) {
    const char *get = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
    write(fd, get, strlen(get));
    readResponse(fd);
    char *h = strcasestr(buf, "lambda-runtime-aws-request-id:");
    if (!h) return 1;
    sscanf(h + 30, " %127[^\r\n]", id);
    int len = snprintf(req, sizeof req,
      "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
      id, strlen(body), body);
    write(fd, req, len);
    readResponse(fd);
  }
}
`;

/** AWS's tutorial loop (sh + curl), with the handler inline. */
const CURL_BOOTSTRAP = `#!/bin/sh
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
while true; do
  H="$(mktemp)"
  curl -sS -o /dev/null -D "$H" "$API/next"
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS -o /dev/null "$API/$ID/response" -d '${RESULT}'
  rm -f "$H"
done
`;

/** Each target: its function folder's files (and a hook to finish the folder). */
interface Target {
  label: string;
  name: string;
  files: Record<string, string>;
  prepare?: (dir: string) => Promise<void>;
}

function targets(): Target[] {
  const provided = (name: string) => `name: ${name}\nruntime: provided\nhandler: index.handler\n`;
  const list: Target[] = [
    {
      label: 'node runtime (lambda handler)',
      name: 'hello-node',
      files: {
        'kumo.yaml': 'name: hello-node\nhandler: index.handler\nstyle: lambda\n',
        'index.mjs': HANDLER,
      },
    },
    {
      label: 'provided: Node bootstrap (node:http)',
      name: 'hello-provided-node',
      files: { 'kumo.yaml': provided('hello-provided-node'), bootstrap: NODE_BOOTSTRAP },
    },
    {
      label: 'provided: aws-lambda-ric (unmodified)',
      name: 'hello-provided-ric',
      files: {
        'kumo.yaml': provided('hello-provided-ric'),
        bootstrap: '#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/vendor/aws-lambda-ric/index.mjs"\n',
        'index.mjs': HANDLER,
      },
      prepare: (dir) =>
        cp(path.join(ROOT, 'node_modules/aws-lambda-ric'), path.join(dir, 'vendor/aws-lambda-ric'), {
          recursive: true,
        }),
    },
  ];
  if (hasCompiler()) {
    list.push({
      label: 'provided: C bootstrap (raw sockets)',
      name: 'hello-provided-c',
      files: { 'kumo.yaml': provided('hello-provided-c'), 'bootstrap.c': C_BOOTSTRAP },
      prepare: async (dir) => {
        execFileSync('cc', ['-O2', '-o', path.join(dir, 'bootstrap'), path.join(dir, 'bootstrap.c')]);
      },
    });
  }
  list.push({
    label: "provided: sh + curl (AWS's tutorial)",
    name: 'hello-provided-curl',
    files: { 'kumo.yaml': provided('hello-provided-curl'), bootstrap: CURL_BOOTSTRAP },
  });
  return list;
}

function hasCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `n` sequential GETs on one keep-alive connection; the latency of each, in ms. */
async function sequential(url: string, n: number, agent: http.Agent): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`${url}: status ${res.statusCode}`));
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    times.push(performance.now() - t0);
  }
  return times;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-provided-'));
  await chmod(work, 0o711);
  let server: ChildProcess | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const up = await startKumo(path.join(work, 'data'));
    server = up.child;
    const list = targets();
    for (const t of list) {
      const dir = path.join(work, t.name);
      await mkdir(dir);
      for (const [file, content] of Object.entries(t.files)) await writeFile(path.join(dir, file), content);
      await t.prepare?.(dir);
      const deployed = await kumoCli(up.url, up.key, ['deploy', dir]);
      if (deployed.code !== 0) throw new Error(`deploy of ${t.name} failed:\n${deployed.out}`);
      await sequential(`${up.url}/fn/${t.name}/`, 200, agent); // warm-up
    }
    const samples = new Map<string, number[]>(list.map((t) => [t.name, []]));
    const roundP50s = new Map<string, number[]>(list.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate, and rotate the order each round, so no target always runs right after another.
      for (let i = 0; i < list.length; i++) {
        const t = list[(i + round) % list.length] as Target;
        const n = t.name === 'hello-provided-curl' ? Math.ceil(REQUESTS / 8) : REQUESTS;
        const times = await sequential(`${up.url}/fn/${t.name}/`, n, agent);
        samples.get(t.name)?.push(...times);
        roundP50s.get(t.name)?.push(percentile(times, 50));
      }
    }
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${ROUNDS} alternated rounds × ${REQUESTS} sequential requests (curl: ${Math.ceil(REQUESTS / 8)}), args: ${KUMO_ARGS.join(' ') || '(sandboxed)'}\n`,
    );
    const node = percentile(samples.get('hello-node') ?? [], 50);
    console.log('| target | p50 ms | p99 ms | vs node p50 | round p50s (min–max) ms | target p50 ≤ 2 ms |');
    console.log('|---|---:|---:|---:|---|---|');
    for (const t of list) {
      const all = samples.get(t.name) ?? [];
      const rounds = roundP50s.get(t.name) ?? [];
      const p50 = percentile(all, 50);
      const verdict = t.name === 'hello-node' ? '(baseline)' : p50 <= TARGET_P50_MS ? 'met' : 'NOT met';
      console.log(
        `| ${t.label} | ${p50.toFixed(2)} | ${percentile(all, 99).toFixed(2)} | ${(p50 - node >= 0 ? '+' : '') + (p50 - node).toFixed(2)} | ${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)} | ${verdict} |`,
      );
    }
  } finally {
    agent.destroy();
    if (server) await stopKumo(server);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
