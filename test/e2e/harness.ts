/**
 * End-to-end harness: a real kumo server on a free port with its own temporary data directory,
 * function folders written on the fly, deploys over HTTP, and the real CLI as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingHttpHeaders } from 'node:http';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create as createTar } from 'tar';
import type { ServerLog } from '../../src/core/index.ts';
import { parseServerConfig, startServer, type RunningServer } from '../../src/server/index.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The kumo binary. */
export const KUMO_BIN = path.join(ROOT, 'bin/kumo.js');

/** A server under test and what it logged. */
export interface TestServer extends RunningServer {
  dataDir: string;
  logLines: string[];
  /** The admin key the server made at first start (the harness helpers send it unless told otherwise). */
  adminKey: string;
  /** The PostgreSQL URL the server keeps its state in, or undefined on SQLite (DATA/kumo.db). */
  storeUrl: string | undefined;
  /** Stops the server and removes its data directory. */
  dispose(): Promise<void>;
}

/**
 * With KUMO_TEST_STORE=postgres, every server of the run keeps its state on PostgreSQL: one
 * throwaway server per test process (test/support/postgres.ts, or the one KUMO_TEST_POSTGRES
 * names), a fresh database per data directory (a restart on the same directory finds its own).
 * A test that passes --store itself is left alone.
 */
const onPostgres = process.env.KUMO_TEST_STORE === 'postgres';
let testPostgres: Promise<TestPostgres> | undefined;
const databases = new Map<string, string>();
async function storeArgs(dir: string, extraArgs: string[]): Promise<string[]> {
  if (!onPostgres || extraArgs.includes('--store')) return [];
  testPostgres ??= startPostgres();
  const pg = await testPostgres;
  let url = databases.get(dir);
  if (!url) databases.set(dir, (url = await pg.createDatabase()));
  return ['--store', url];
}

/** Starts a server on a free port with a fresh data directory (or `dataDir`). */
export async function startTestServer(extraArgs: string[] = [], dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'kumo-test-')));
  // Like a real data directory: the sandbox user may pass through to the builds.
  await chmod(dir, 0o711);
  const args = ['--port', '0', '--data', dir, ...(await storeArgs(dir, extraArgs)), ...extraArgs];
  const config = parseServerConfig(args, {}, ROOT);
  const logLines: string[] = [];
  const out = { write: (s: string) => logLines.push(s) } as unknown as NodeJS.WritableStream;
  const { createServerLog } = await import('../../src/telemetry/index.ts');
  const log: ServerLog = createServerLog({ out, level: 'debug' });
  const server = await startServer(config, log);
  const adminKey = await useAdminKey(server.url, dir);
  return {
    ...server,
    dataDir: dir,
    logLines,
    adminKey,
    storeUrl: config.store.kind === 'postgres' ? config.store.url : undefined,
    dispose: async () => {
      await server.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The function folders this test process wrote, removed when it exits. */
const functionDirs: string[] = [];
process.once('exit', () => {
  for (const dir of functionDirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path → content) into a new temporary folder (removed at exit) and returns it. */
export async function writeFunction(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-fn-'));
  functionDirs.push(dir);
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

/** The admin keys of the servers tests started, by URL, so that helpers given only `{ url }` authenticate too. */
const adminKeys = new Map<string, string>();

/**
 * Reads the first-start admin key from `dataDir` and makes the helpers send it to `url`. For
 * servers a test starts itself (`kumo up` as a child process); startTestServer does it already.
 */
export async function useAdminKey(url: string, dataDir: string): Promise<string> {
  const key = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
  adminKeys.set(url, key);
  return key;
}

/** Which key a helper sends: by default the server's admin key; `key: null` sends none. */
export interface KeyOption {
  key?: string | null;
}

/** A server as the helpers see it: its URL, and its admin key when known. */
export type ServerRef = { url: string; adminKey?: string };

function keyFor(server: ServerRef, option: KeyOption): string | undefined {
  if (option.key === null) return undefined;
  return option.key ?? server.adminKey ?? adminKeys.get(server.url);
}

/**
 * A control-plane request (`path` below /api/v1, e.g. "/functions"). Every test goes through
 * this, so that credentials and the API prefix live in one place: it sends the server's admin
 * key as `Authorization: Bearer` unless `init` has an Authorization header or `as.key` says otherwise.
 */
export function api(
  server: ServerRef,
  path: string,
  init: RequestInit = {},
  as: KeyOption = {},
): Promise<Response> {
  const key = keyFor(server, as);
  const headers = new Headers(init.headers);
  if (key !== undefined && !headers.has('authorization')) headers.set('authorization', `Bearer ${key}`);
  return fetch(`${server.url}/api/v1${path}`, { ...init, headers });
}

/** A control-plane GET, parsed as JSON. */
export async function apiJson<T = Record<string, unknown>>(
  server: ServerRef,
  path: string,
  as: KeyOption = {},
): Promise<T> {
  return (await api(server, path, {}, as)).json() as Promise<T>;
}

/** Deploys `dir` over the control API; returns status and JSON body. */
export async function deploy(
  server: ServerRef,
  dir: string,
  query = '',
  as: KeyOption = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await api(
    server,
    `/functions${query ? `?${query}` : ''}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/gzip' },
      body: await tarball(dir),
    },
    as,
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Deploys and asserts success. */
export async function mustDeploy(
  server: ServerRef,
  dir: string,
  query = '',
  as: KeyOption = {},
): Promise<Record<string, unknown>> {
  const { status, body } = await deploy(server, dir, query, as);
  if (status !== 200 && status !== 201)
    throw new Error(`deploy failed with ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** Where the CLI under test looks for a login config and a local data directory: nowhere real. */
const NO_CONFIG = path.join(os.tmpdir(), `kumo-test-no-config-${process.pid}`);

/**
 * Runs the real `kumo` CLI against `url`; resolves with exit code and output. It runs with
 * KUMO_API_KEY set to the server's admin key (or `options.key`; `null` for none), and never sees
 * the developer's own login config or `.kumo` key file; `options.env` adds or overrides variables
 * (undefined removes one), `options.cwd` replaces the repository root as its working directory.
 */
export function kumo(
  url: string,
  args: string[],
  input?: string,
  options: KeyOption & { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const key = keyFor({ url }, options);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUMO_URL: url,
    XDG_CONFIG_HOME: NO_CONFIG,
    KUMO_DATA: NO_CONFIG,
  };
  delete env.KUMO_API_KEY;
  if (key !== undefined) env.KUMO_API_KEY = key;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KUMO_BIN, ...args], {
      env: { ...env, ...options.env },
      cwd: options.cwd ?? ROOT,
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

/** A raw HTTP request to `url`'s host (fetch cannot set Host or hop-by-hop headers). */
export function raw(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers, ...(opts.body ? { 'content-length': String(opts.body.length) } : {}) };
    const req = http.request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
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

/** A `kumo up` running as its own process (restarts, kill -9, a first start in a folder). */
export interface KumoChild {
  child: ChildProcess;
  url: string;
  /** Everything it printed so far. */
  output: () => string;
}

/** Starts `kumo up --port 0 ...args` as a child process; resolves once it listens (killed if it never does). */
export async function spawnKumo(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<KumoChild> {
  const dataAt = args.indexOf('--data');
  const dir = dataAt >= 0 ? (args[dataAt + 1] ?? '') : `cwd:${options.cwd ?? ROOT}`;
  const store = await storeArgs(dir, args);
  const child = spawn(process.execPath, [KUMO_BIN, 'up', '--port', '0', ...store, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  try {
    const url = await eventually(
      () => /kumo is listening url=(\S+)/.exec(output)?.[1],
      15_000,
      'kumo to listen',
    );
    return { child, url, output: () => output };
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; its output:\n${output.slice(-4000)}`, { cause: err });
  }
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

/**
 * Every row of every table of the PostgreSQL database at `url`, as text (bytea columns in hex),
 * for tests that check what the store holds, as they read kumo.db on SQLite.
 */
export async function dumpPostgres(url: string): Promise<string> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const tables = await sql<
      { name: string }[]
    >`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`;
    let out = '';
    for (const { name } of tables) {
      const [row] = await sql.unsafe(`SELECT string_agg(t::text, E'\\n') AS text FROM "${name}" t`);
      out += `${name}\n${String(row?.text ?? '')}\n`;
    }
    return out;
  } finally {
    await sql.end();
  }
}
