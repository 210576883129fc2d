/**
 * Test support for the node runtime's tests: build a function from files in a temporary folder,
 * start a real instance from its LaunchPlan (as the process driver does, fd 3 included) and talk
 * to it over its Unix socket. Not used by kumo itself.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseManifest, toFunctionSpec } from '../../core/index.ts';
import type { FunctionSpec, ManifestInput } from '../../core/index.ts';
import { nodeRuntime } from './index.ts';
import { hostBuildTools } from '../build-job.ts';
import { taskDir } from '../layout.ts';
import { writeLaunchRecord } from '../launch-record.ts';

/** A function's files: path inside the bundle → content. */
export type Files = Record<string, string | Buffer>;

/** A temporary folder holding a function's source and build. */
export interface Workspace {
  root: string;
  sourceDir: string;
  outDir: string;
  spec: FunctionSpec;
  /** Every line the build logged. */
  log: string[];
  cleanup(): Promise<void>;
}

/** A spec with defaults, as the manifest schema would produce it. */
export function specOf(manifest: ManifestInput = {}, name = 'test-fn'): FunctionSpec {
  return toFunctionSpec(parseManifest(manifest), name);
}

/** Writes `files` into a fresh temporary source folder. */
export async function workspace(files: Files, manifest: ManifestInput = {}): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), 'kumo-node-'));
  const outDir = join(root, 'out');
  // The build works in place on the bundle, as in the build sandbox (there at /var/task).
  const sourceDir = taskDir(outDir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(sourceDir, path)), { recursive: true });
    await writeFile(join(sourceDir, path), content);
  }
  await mkdir(sourceDir, { recursive: true });
  return {
    root,
    sourceDir,
    outDir,
    spec: specOf(manifest),
    log: [],
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Builds a workspace with the node runtime. */
export async function build(ws: Workspace, signal = new AbortController().signal): Promise<void> {
  // A workspace builds in place; a source elsewhere (an example folder) is copied in first.
  if (ws.sourceDir !== taskDir(ws.outDir)) await cp(ws.sourceDir, taskDir(ws.outDir), { recursive: true });
  const record = await nodeRuntime.build({
    dir: taskDir(ws.outDir),
    spec: ws.spec,
    tools: hostBuildTools(),
    log: (line) => ws.log.push(line),
    signal,
  });
  await writeLaunchRecord(ws.outDir, 'node', record);
}

/** A running instance of a built workspace. */
export interface TestInstance {
  child: ChildProcess;
  socketPath: string;
  /** The first JSON line on fd 3. */
  control: Promise<Record<string, unknown>>;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or signal name) once the process is gone and its output read. */
  exited: Promise<number | string | null>;
  /** Resolves once a line matching `pattern` has appeared on stdout or stderr. */
  waitForLine(pattern: RegExp): Promise<string>;
  request(options?: RequestOptions): Promise<TestResponse>;
  /** Kills the instance if it still runs and waits for it. */
  kill(): Promise<void>;
}

/** Starts an instance from the runtime's LaunchPlan, exactly as a driver would. */
export function start(ws: Workspace, version = 1): TestInstance {
  const socketPath = join(ws.root, 'instance.sock');
  const plan = nodeRuntime.launch({
    buildDir: ws.outDir,
    spec: ws.spec,
    version,
    socketPath,
    view: { neutral: false },
  });
  const child = spawn(plan.command, plan.args, {
    env: plan.env,
    cwd: plan.cwd,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const watchers: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const collect = (stream: Readable | null, into: string[]) => {
    if (!stream) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      into.push(line);
      for (const w of watchers.filter((w) => w.pattern.test(line))) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  const exited = new Promise<number | string | null>((resolve) => {
    // 'close' rather than 'exit': by then every line of stdout and stderr has been read.
    child.once('close', (code, signal) => resolve(code ?? signal));
  });
  const control = firstJsonLine(child.stdio[3] as Readable);
  return {
    child,
    socketPath,
    control,
    stdout,
    stderr,
    exited,
    waitForLine: (pattern) =>
      new Promise((resolve) => {
        const seen = [...stdout, ...stderr].find((line) => pattern.test(line));
        if (seen !== undefined) resolve(seen);
        else watchers.push({ pattern, resolve });
      }),
    request: (options) => send(socketPath, options),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Reads the first line of the control pipe as JSON (rejects if the pipe closes first). */
function firstJsonLine(stream: Readable): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.once('line', (line) => {
      resolve(JSON.parse(line) as Record<string, unknown>);
      lines.close();
    });
    lines.once('close', () => reject(new Error('fd 3 closed without a control message')));
  });
}

/** One request to an instance. */
export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called with the response stream instead of buffering the body (for streaming tests). */
  onResponse?: (res: IncomingMessage) => void;
}

/** A buffered response. */
export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

let counter = 0;

/** How long a test request may go without any data from the instance. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Sends a request over the Unix socket with the platform's headers added. */
export function send(socketPath: string, options: RequestOptions = {}): Promise<TestResponse> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: Record<string, string> = {
    host: 'test-fn.localhost',
    'x-kumo-invocation-id': `inv-${process.pid}-${++counter}`,
    'x-kumo-deadline': String(Date.now() + 30_000),
    ...(body ? { 'content-length': String(body.length) } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { socketPath, method: options.method ?? 'GET', path: options.path ?? '/', headers },
      (res) => {
        options.onResponse?.(res);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const buffer = Buffer.concat(chunks);
          const text = buffer.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: buffer,
            text,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    // A hung instance fails the test (and frees the socket, so cleanup runs) instead of hanging it.
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS}ms`)),
    );
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Builds `files`, starts an instance, waits for its ready line, and hands it to `fn`; the
 * instance and the folder are gone afterwards, whatever happened.
 */
export async function withInstance(
  files: Files,
  manifest: ManifestInput,
  fn: (instance: TestInstance, ws: Workspace) => Promise<void>,
): Promise<void> {
  const ws = await workspace(files, manifest);
  try {
    await build(ws);
    const instance = start(ws);
    try {
      const control = await instance.control;
      if (control.type !== 'ready')
        throw new Error(`instance not ready: ${JSON.stringify(control)}\n${instance.stderr.join('\n')}`);
      await fn(instance, ws);
    } finally {
      await instance.kill();
    }
  } finally {
    await ws.cleanup();
  }
}

/** Every byte value, twice, in an order that is not valid UTF-8: a body only a byte-exact path keeps. */
export const BINARY = Buffer.from([
  ...Array.from({ length: 256 }, (_, i) => 255 - i),
  ...Array.from({ length: 256 }, (_, i) => i),
]);
