/**
 * What the shims Node runs inside instances share (node, exec, lua): the control message, the
 * control variables every shim takes, the reading of one invocation, and the draining socket
 * server. The names are the instance protocol's (core/instance-protocol.ts). Each shim is bundled
 * into one file before it runs (shim-bundle.ts), so sharing this costs no mount.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, rmSync, writeSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CONTROL_FD, ENV, invocationOf, type ControlMessage } from '../../core/index.ts';

/** Where the next control message goes, when a stem cell's assignment is waiting for it. */
let answerAssignment: ((message: ControlMessage) => void) | undefined;

/** The server a stem cell took its assignment on, still listening, until the function's server adopts it. */
let assignmentServer: Server | undefined;

/**
 * The server a stem cell's assignment arrived on, now serving `handle` (undefined outside a cell):
 * the function serves on the socket the cell already listens on, so an assignment costs no
 * second listen (and no window in which the socket path does not exist). Taken once.
 */
export function adoptAssignmentServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Server | undefined {
  const server = assignmentServer;
  assignmentServer = undefined;
  server?.removeAllListeners('request').on('request', handle);
  return server;
}

/** Writes the one control message and closes fd 3, so user code cannot write a second one. */
export function report(message: ControlMessage): void {
  const answer = answerAssignment;
  answerAssignment = undefined;
  if (answer) return answer(message);
  try {
    writeSync(CONTROL_FD, `${JSON.stringify(message)}\n`);
    closeSync(CONTROL_FD);
  } catch {
    // Started without the pipe (by hand): stderr is the only channel left.
    if (message.type === 'error') console.error(`${message.code}: ${message.message}`);
  }
}

/**
 * Stem cell mode (ENV.stem): listens on the socket with no function loaded, reports ready on fd 3,
 * and resolves once the platform's assignment arrived, with `process.env` replaced by the one it
 * carries. The next control message (the function loaded, or failed to) answers the assignment;
 * the server stays listening for the function's server to adopt (adoptAssignmentServer).
 * Without ENV.stem it returns at once: the environment is already the function's. `warm` runs
 * first in a cell: work the shim would do after its assignment that needs no function (loading
 * a module loader, compiling a VM, `warmHttp`), done before the cell counts as ready.
 */
export async function awaitAssignment(warm?: () => Promise<void>): Promise<void> {
  if (process.env[ENV.stem] !== '1') return;
  const socketPath = process.env[ENV.socket] ?? '';
  if (!socketPath) throw new Error(`${ENV.socket} is not set: the shim is started by kumo, not by hand`);
  await warm?.();
  const server = createServer();
  server.keepAliveTimeout = 0;
  rmSync(socketPath, { force: true });
  const assignment = new Promise<{ env: Record<string, string>; res: ServerResponse }>((resolve) => {
    server.once('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { env?: unknown };
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(parsed.env ?? {})) if (typeof v === 'string') env[k] = v;
        resolve({ env, res });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  report({ type: 'ready' });
  const { env, res } = await assignment;
  assignmentServer = server;
  for (const key of Object.keys(process.env)) Reflect.deleteProperty(process.env, key);
  Object.assign(process.env, env);
  answerAssignment = (message) => {
    // Written before a failing shim exits: on a Unix socket with room, the write is immediate.
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(message));
  };
}

/**
 * A stem cell's warm-up of the HTTP path: one request and its answer through a throwaway server
 * on a socket beside the cell's own (Node compiles the server's parser and response writer at
 * their first use: ~10 ms of an assignment's answer when timed inside a cell). The node shim
 * warms the same path through its own InstanceServer instead.
 */
export async function warmHttp(): Promise<void> {
  const socketPath = warmSocketPath();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"warm":true}'));
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    await roundTrip(socketPath);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Where a stem cell's warm-up listens: beside its own socket, gone once the warm-up is done. */
export function warmSocketPath(): string {
  return `${process.env[ENV.socket] ?? ''}.warm`;
}

/** One POST to the server on `socketPath`, as the gateway sends it, read to the end. */
export function roundTrip(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = '{"warm":true}';
    const req = request(
      {
        socketPath,
        method: 'POST',
        path: '/warm?x=1',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The control variables every launch plan sets, as a shim reads them. */
export interface CommonControl {
  socketPath: string;
  /** The host channel's socket ('' when the function lists no plugin). */
  hostSocket: string;
  functionName: string;
  version: string;
  memoryMb: number;
  timeoutMs: number;
  /** The function's own variables (named by KUMO_ENV_KEYS), as its handler sees them. */
  vars: Record<string, string>;
}

/** Takes the common control variables out of `env` (the function never sees them). */
export function takeCommonControl(env: Record<string, string | undefined>): CommonControl {
  const take = (name: string) => takeVariable(env, name);
  const socketPath = take(ENV.socket);
  const memoryMb = Number(take(ENV.memory));
  const timeoutMs = Number(take(ENV.timeout));
  const control: CommonControl = {
    socketPath,
    hostSocket: take(ENV.hostSocket),
    functionName: take(ENV.functionName),
    version: take(ENV.version),
    memoryMb: Number.isFinite(memoryMb) ? memoryMb : 0,
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 30_000,
    vars: {},
  };
  for (const key of take(ENV.envKeys).split(',')) {
    const value = key ? env[key] : undefined;
    if (value !== undefined) control.vars[key] = value;
  }
  if (!socketPath) throw new Error(`${ENV.socket} is not set: the shim is started by kumo, not by hand`);
  return control;
}

/** One invocation as a shim reads it from its request: id, deadline and the whole body. */
export interface RequestInvocation {
  id: string;
  /** Epoch ms after which the platform kills the run. */
  deadline: number;
  /** The whole body (the gateway buffers it, so it is bounded and complete). */
  body: Buffer;
}

/** Reads the invocation `req` carries, with `timeoutMs` as the deadline of a request sent by hand. */
export async function readInvocation(req: IncomingMessage, timeoutMs: number): Promise<RequestInvocation> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return { ...invocationOf(req.headers, timeoutMs, randomUUID), body: Buffer.concat(chunks) };
}

/** Reads one control variable and deletes it, so the function never sees it ('' when unset). */
export function takeVariable(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  Reflect.deleteProperty(env, name);
  return value ?? '';
}

/**
 * Serves `handle` on the Unix socket, reports ready once listening (or calls `onListening`, for
 * a shim that is ready later), and on SIGTERM or SIGINT
 * stops taking connections, lets the requests in flight finish and exits. A handler that throws
 * gets a bare 500 (or a cut connection once the answer began), logged with `label`.
 */
export function serveOnSocket(
  socketPath: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  label: string,
  onListening: () => void = () => report({ type: 'ready' }),
): void {
  let inFlight = 0;
  let closing = false;
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (closing && inFlight === 0) process.exit(0);
    });
    // A stopping instance answers what it was sent but asks the client not to reuse the connection.
    if (closing) res.setHeader('connection', 'close');
    handle(req, res).catch((err: unknown) => {
      console.error(`${label} error:`, err);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const adopted = adoptAssignmentServer(serve);
  const server = adopted ?? createServer(serve);
  // The only client is the platform, which manages its own pooled connections: a server-side
  // idle timeout would only race it (a request sent just as the socket closes is lost).
  server.keepAliveTimeout = 0;
  if (adopted) onListening();
  else {
    rmSync(socketPath, { force: true });
    server.listen(socketPath, onListening);
  }
  const stop = () => {
    closing = true;
    server.close();
    server.closeIdleConnections();
    if (inFlight === 0) process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
