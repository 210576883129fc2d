/**
 * End-to-end harness: a real kumo server on a free port with its own temporary data directory,
 * function folders written on the fly, deploys over HTTP, and the real CLI as a child process.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create as createTar } from 'tar';
import { parseServerConfig } from '../../src/config.ts';
import type { ServerLog } from '../../src/core/index.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The kumo binary. */
export const KUMO_BIN = path.join(ROOT, 'bin/kumo.js');

/** A server under test and what it logged. */
export interface TestServer extends RunningServer {
  dataDir: string;
  logLines: string[];
  /** Stops the server and removes its data directory. */
  dispose(): Promise<void>;
}

/** Starts a server on a free port with a fresh data directory (or `dataDir`). */
export async function startTestServer(extraArgs: string[] = [], dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'kumo-test-')));
  // Like a real data directory: the sandbox user may pass through to the builds.
  await chmod(dir, 0o711);
  const config = parseServerConfig(['--port', '0', '--data', dir, ...extraArgs], {}, ROOT);
  const logLines: string[] = [];
  const out = { write: (s: string) => logLines.push(s) } as unknown as NodeJS.WritableStream;
  const { createServerLog } = await import('../../src/telemetry/index.ts');
  const log: ServerLog = createServerLog({ out, level: 'debug' });
  const server = await startServer(config, log);
  return {
    ...server,
    dataDir: dir,
    logLines,
    dispose: async () => {
      await server.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `files` (path → content) into a new temporary folder and returns it. */
export async function writeFunction(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-fn-'));
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

/** A gzipped tar of the folder `dir`. */
export async function tarball(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = createTar({ gzip: true, cwd: dir, portable: true }, ['.']);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A control-plane request (`path` below /api/v1, e.g. "/functions"). Every test goes through
 * this, so that credentials and the API prefix live in one place.
 */
export function api(server: { url: string }, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}/api/v1${path}`, init);
}

/** A control-plane GET, parsed as JSON. */
export async function apiJson<T = Record<string, unknown>>(
  server: { url: string },
  path: string,
): Promise<T> {
  return (await api(server, path)).json() as Promise<T>;
}

/** Deploys `dir` over the control API; returns status and JSON body. */
export async function deploy(
  server: { url: string },
  dir: string,
  query = '',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await api(server, `/functions${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: await tarball(dir),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Deploys and asserts success. */
export async function mustDeploy(
  server: { url: string },
  dir: string,
  query = '',
): Promise<Record<string, unknown>> {
  const { status, body } = await deploy(server, dir, query);
  if (status !== 200 && status !== 201)
    throw new Error(`deploy failed with ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** Runs the real `kumo` CLI against `url`; resolves with exit code and output. */
export function kumo(
  url: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KUMO_BIN, ...args], {
      env: { ...process.env, KUMO_URL: url },
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A request to a function through /fn/NAME. */
export function invoke(
  server: { url: string },
  name: string,
  pathAndQuery = '/',
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${server.url}/fn/${name}${pathAndQuery}`, init);
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
