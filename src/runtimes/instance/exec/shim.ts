/**
 * kumo's exec shim: the program that runs inside every exec instance (the Instance protocol of
 * DESIGN.md). It serves HTTP on the Unix socket KUMO_SOCKET and, for each request, runs the
 * function's program once, as ShortedFaaS runs its executables:
 *   - the request body is the program's stdin, its stdout is the response body,
 *   - exit code 0 → 200, anything else → 500 (stderr stays in the logs, never in the response),
 *   - method, path, query and headers arrive as CGI variables (REQUEST_METHOD, PATH_INFO,
 *     QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, HTTP_<NAME>), with KUMO_INVOCATION_ID.
 * The program's stderr lines are written to the shim's stderr tagged `\u001e<id>\u001f`.
 * It imports node builtins, the shims' shared support and the instance protocol; it runs bundled
 * (shim-bundle.ts).
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { ENV, tagText } from '../../../core/index.ts';
import {
  awaitAssignment,
  warmHttp,
  readInvocation,
  report,
  serveOnSocket,
  takeCommonControl,
  takeVariable,
} from '../support.ts';

/** Largest response a program may write; past it the run fails rather than eat the memory. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

interface ExecControl {
  socketPath: string;
  command: string[];
  functionName: string;
  timeoutMs: number;
  /** The variables every run gets: the basics and the function's own. */
  baseEnv: Record<string, string>;
}

function takeControl(env: NodeJS.ProcessEnv): ExecControl {
  const commandJson = takeVariable(env, ENV.command);
  // The host channel serves plugins, which exec functions do not have: the program must not see it.
  const { socketPath, functionName, timeoutMs } = takeCommonControl(env);
  const command = JSON.parse(commandJson || '[]') as unknown;
  if (!Array.isArray(command) || command.length === 0 || !command.every((w) => typeof w === 'string')) {
    throw new Error(`${ENV.command} must be set: the shim is started by kumo, not by hand`);
  }
  const baseEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) baseEnv[key] = value;
  return { socketPath, command, functionName, timeoutMs, baseEnv };
}

/** The CGI variables of one request. */
export function requestEnv(
  req: IncomingMessage,
  body: Buffer,
  invocationId: string,
  deadline: number,
): Record<string, string> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const env: Record<string, string> = {
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: url.pathname,
    QUERY_STRING: url.search.slice(1),
    CONTENT_LENGTH: String(body.length),
    [ENV.invocationId]: invocationId,
    [ENV.deadline]: String(deadline),
  };
  const contentType = req.headers['content-type'];
  if (contentType) env.CONTENT_TYPE = contentType;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'content-type' || name === 'content-length') continue;
    env[`HTTP_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = Array.isArray(value)
      ? value.join(', ')
      : value;
  }
  return env;
}

/** The content type of a program's output: JSON when it parses as JSON, else text (or bytes). */
export function outputType(out: Buffer): string {
  const text = out.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(out)) return 'application/octet-stream';
  try {
    JSON.parse(text);
    return 'application/json; charset=utf-8';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}

function tagged(invocationId: string, line: string): string {
  return tagText(`${line}\n`, invocationId, true).text;
}

/** Runs the program once; resolves with its exit status and stdout. */
function runOnce(
  control: ExecControl,
  env: Record<string, string>,
  body: Buffer,
  invocationId: string,
  deadline: number,
): Promise<{ code: number | null; signal: string | null; out: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const [program, ...args] = control.command as [string, ...string[]];
    const child = spawn(program, args, {
      env: { ...control.baseEnv, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    const timer = setTimeout(
      () => {
        error = `killed at the deadline (${control.timeoutMs}ms timeout)`;
        child.kill('SIGKILL');
      },
      Math.max(0, deadline - Date.now()),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        error = `wrote more than ${MAX_OUTPUT_BYTES} bytes to stdout`;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(chunk);
    });
    const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
    lines.on('line', (line) => process.stderr.write(tagged(invocationId, line)));
    // A program that exits without reading its stdin makes the write fail with EPIPE: not our error.
    child.stdin.on('error', () => {});
    child.stdin.end(body);
    child.once('error', (err) => {
      error = `could not start ${program}: ${err.message}`;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: Buffer.concat(chunks), ...(error ? { error } : {}) });
    });
  });
}

async function handle(control: ExecControl, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { id: invocationId, deadline, body } = await readInvocation(req, control.timeoutMs);
  const result = await runOnce(
    control,
    requestEnv(req, body, invocationId, deadline),
    body,
    invocationId,
    deadline,
  );
  if (result.code === 0 && !result.error) {
    res.writeHead(200, { 'content-type': outputType(result.out), 'content-length': result.out.length });
    res.end(result.out);
    return;
  }
  const how =
    result.error ??
    (result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`);
  process.stderr.write(tagged(invocationId, `${control.command[0]} ${how}`));
  const message = `the program ${how} (invocation ${invocationId}); see kumo logs ${control.functionName}`;
  const errorBody = JSON.stringify({ error: { code: 'handler_error', message } });
  res.writeHead(500, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(errorBody),
  });
  res.end(errorBody);
}

async function main(): Promise<void> {
  let control: ExecControl;
  try {
    await awaitAssignment(warmHttp);
    control = takeControl(process.env);
  } catch (err) {
    report({ type: 'error', code: 'handler_error', message: (err as Error).message });
    process.exit(1);
  }
  serveOnSocket(control.socketPath, (req, res) => handle(control, req, res), 'exec shim');
}

await main();
