/**
 * The program a build runs inside the build sandbox (never on the host). It unpacks the bundle
 * kumo streams on stdin (a tar of the already-checked source) into its private task folder, runs
 * the runtime's build there, and answers with:
 * - fd 3: one JSON line, `{"type":"built","record":{…}}` or `{"type":"error","code","message"}`;
 * - stdout: a tar of the built task folder, which kumo unpacks with the same checks as an upload;
 * - stderr: the build log, line by line.
 * Everything it says is the tenant's to forge (tenant code runs in here): kumo checks it all.
 */
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { create as createTar, extract as extractTar } from 'tar';
import { KumoError, type FunctionSpec } from '../core/index.ts';
import { buildExec } from './exec/build.ts';
import { buildLua } from './lua/build.ts';
import { buildNode } from './node/build.ts';
import { buildPython } from './python/build.ts';
import { buildProvided } from './provided/build.ts';
import type { BuildContext, BuildTools, LaunchRecord } from './runtime.ts';

/** The job description kumo puts in KUMO_BUILD. */
export interface BuildJob {
  runtime: string;
  spec: FunctionSpec;
  tools: BuildTools;
  /** The task folder (the build's writable tmpfs). */
  dir: string;
}

const BUILDERS: Record<string, (ctx: BuildContext) => Promise<LaunchRecord>> = {
  node: buildNode,
  python: buildPython,
  exec: buildExec,
  lua: buildLua,
  provided: buildProvided,
};

/** Error codes a build may report; anything else is reported as build_failed. */
const CODES = new Set(['build_failed', 'unknown_handler', 'invalid_manifest']);

async function main(): Promise<void> {
  const raw = process.env.KUMO_BUILD;
  delete process.env.KUMO_BUILD;
  const control = createWriteStream('', { fd: 3 });
  let relay: net.Server | undefined;
  const say = (message: object) =>
    new Promise<void>((resolve) => control.end(`${JSON.stringify(message)}\n`, () => resolve()));
  try {
    if (!raw) throw new Error('KUMO_BUILD is not set: the build shim is started by kumo, not by hand');
    const job = JSON.parse(raw) as BuildJob;
    const builder = BUILDERS[job.runtime];
    if (!builder) throw new KumoError('invalid_manifest', `no build for runtime ${job.runtime}`);
    await pipeline(process.stdin, extractTar({ cwd: job.dir, strict: true, preserveOwner: false }));
    relay = await relayProxy();
    const record = await builder({
      dir: job.dir,
      spec: job.spec,
      tools: job.tools,
      log: (line) => process.stderr.write(`${line}\n`),
      signal: new AbortController().signal,
    });
    await pipeline(createTar({ cwd: job.dir, portable: true }, ['.']), process.stdout);
    await say({ type: 'built', record });
  } catch (err) {
    const code = err instanceof KumoError && CODES.has(err.code) ? err.code : 'build_failed';
    await say({ type: 'error', code, message: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
  } finally {
    relay?.close();
  }
}

/**
 * With a build proxy (KUMO_PROXY_SOCKET), a loopback port of the build's own network namespace is
 * relayed to it, and npm and pip are told to use it as their proxy. Without one there is nothing
 * to reach: the namespace has only loopback.
 */
async function relayProxy(): Promise<net.Server | undefined> {
  const socket = process.env.KUMO_PROXY_SOCKET;
  delete process.env.KUMO_PROXY_SOCKET;
  if (!socket) return undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(socket);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  for (const name of [
    'http_proxy',
    'https_proxy',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'npm_config_proxy',
    'npm_config_https_proxy',
    'PIP_PROXY',
  ])
    process.env[name] = url;
  return server;
}

await main();
