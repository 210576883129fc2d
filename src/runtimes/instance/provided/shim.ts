/**
 * kumo's provided shim: the program that runs inside every provided instance. It bridges the
 * instance protocol (HTTP on the Unix socket KUMO_SOCKET, as every runtime) to the Lambda Runtime
 * API (runtime-api.ts) that it serves on 127.0.0.1 of the instance's own network namespace, and
 * runs the bundle's `bootstrap` with AWS_LAMBDA_RUNTIME_API pointing there:
 *   - the instance is ready when the bootstrap first asks for /next (Lambda's end of init); an
 *     init error, an exit or no /next within INIT_TIMEOUT_MS is reported on fd 3 instead,
 *   - a request becomes an API Gateway HTTP API (v2.0) event, as the node runtime's lambda style
 *     builds it; the runtime's response maps back as API Gateway maps a Lambda result,
 *   - the bootstrap's stdout and stderr are the instance's (one invocation at a time, so the
 *     platform attributes every line to it); a bootstrap that exits ends the instance.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ENV, HEADERS, tagText } from '../../../core/index.ts';
import { sendLambdaResult, toEvent } from '../node/styles/lambda.ts';
import {
  readInvocation,
  report,
  serveOnSocket,
  takeCommonControl,
  takeVariable,
  type CommonControl,
} from '../support.ts';
import { errorText, RuntimeApi, type Outcome, type PendingInvocation } from './runtime-api.ts';

/** Lambda's limit on a runtime's initialisation: the bootstrap must ask for /next within it. */
export const INIT_TIMEOUT_MS = 10_000;

interface ProvidedControl extends CommonControl {
  bootstrap: string;
  port: number;
  functionArn: string;
  /** What the bootstrap gets: the environment without kumo's control variables. */
  childEnv: Record<string, string>;
}

function takeControl(env: NodeJS.ProcessEnv): ProvidedControl {
  const bootstrap = takeVariable(env, ENV.bootstrap);
  const port = Number(takeVariable(env, ENV.runtimeApiPort));
  const functionArn = takeVariable(env, ENV.functionArn);
  const common = takeCommonControl(env);
  if (!bootstrap) throw new Error(`${ENV.bootstrap} must be set: the shim is started by kumo, not by hand`);
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = value;
  return { ...common, bootstrap, port: Number.isInteger(port) ? port : 0, functionArn, childEnv };
}

/** An X-Ray style trace id: `Root=1-<epoch seconds hex>-<96 random bits>;Sampled=0`. */
function traceId(now: number): string {
  return `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`;
}

function fail(message: string): never {
  report({ type: 'error', code: 'instance_failed_to_start', message });
  process.exit(1);
}

/** Answers the platform's request with what the runtime made of its invocation. */
function respond(control: ProvidedControl, res: ServerResponse, id: string, outcome: Outcome): void {
  if (res.writableEnded || res.destroyed) return;
  switch (outcome.type) {
    case 'response':
      return sendPayload(res, outcome.body);
    case 'error': {
      const detail = errorText(outcome.body);
      process.stderr.write(tagText(`${detail}\n`, id, true).text);
      return sendError(
        res,
        500,
        'handler_error',
        `the function reported ${outcome.errorType} (invocation ${id}); see kumo logs ${control.functionName}`,
      );
    }
    case 'too_large':
      return sendError(
        res,
        502,
        'response_too_large',
        `the runtime posted a response larger than ${outcome.limit} bytes (Lambda's limit); invocation ${id}`,
      );
    case 'abandoned':
      process.stderr.write(tagText(`${outcome.reason}\n`, id, true).text);
      return sendError(res, 500, 'handler_error', `${outcome.reason} (invocation ${id})`);
  }
}

/** A Lambda result: API Gateway's mapping when it has a statusCode, else the payload as sent. */
function sendPayload(res: ServerResponse, body: Buffer): void {
  let parsed: unknown = undefined;
  let json = false;
  // Only a JSON object can carry a statusCode; other payloads are not parsed at all.
  if (body[0] === 0x7b || body[0] === 0x20 || body[0] === 0x0a) {
    try {
      parsed = JSON.parse(body.toString('utf8'));
      json = true;
    } catch {
      json = false;
    }
  }
  if (json && typeof parsed === 'object' && parsed !== null && 'statusCode' in parsed) {
    try {
      sendLambdaResult(res, parsed);
      return;
    } catch (err) {
      return sendError(
        res,
        500,
        'handler_error',
        `the function's result is invalid: ${(err as Error).message}`,
      );
    }
  }
  res.writeHead(200, {
    'content-type': json || looksJson(body) ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': body.length,
  });
  res.end(body);
}

function looksJson(body: Buffer): boolean {
  if (body.length === 0) return false;
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const text = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Serves one request from the platform: its event goes to the runtime, its result comes back. */
async function handle(
  control: ProvidedControl,
  api: RuntimeApi,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const read = await readInvocation(req, control.timeoutMs);
  const now = Date.now();
  const event =
    req.headers[HEADERS.trigger] === 'cron'
      ? scheduledEvent(req, read.body, control.functionArn, read.id, now)
      : toEvent(
          req,
          {
            ...read,
            vars: control.vars,
            functionName: control.functionName,
            version: control.version,
            memoryMb: control.memoryMb,
            waitUntil: () => {},
          },
          new Date(now),
        );
  await new Promise<void>((resolve) => {
    const pending: PendingInvocation = {
      id: read.id,
      deadline: read.deadline,
      event: Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event)),
      traceId: traceId(now),
      settle: (outcome) => {
        respond(control, res, read.id, outcome);
        resolve();
      },
    };
    res.once('close', () => {
      api.withdraw(pending);
      resolve();
    });
    api.invoke(pending);
  });
}

/**
 * The event of a cron tick, as EventBridge gives a Lambda function: the schedule's data as sent
 * (SAM's `Input`), else a "Scheduled Event" naming the tick's time.
 */
function scheduledEvent(
  req: IncomingMessage,
  body: Buffer,
  arn: string,
  id: string,
  now: number,
): Buffer | object {
  if (body.length > 0) return body;
  const at = Date.parse(String(req.headers[HEADERS.scheduledAt] ?? ''));
  const [, , , region = '', account = ''] = arn.split(':');
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date(Number.isFinite(at) && at > 0 ? at : now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [],
    detail: {},
  };
}

/** Starts the bootstrap; the instance ends with it. */
function startBootstrap(control: ProvidedControl, runtimeApi: string, initialised: () => boolean): void {
  const child = spawn(control.bootstrap, [], {
    env: { ...control.childEnv, AWS_LAMBDA_RUNTIME_API: runtimeApi },
    // Never fd 3: the control pipe is the shim's, and a runtime must not report ready for it.
    stdio: ['ignore', 'inherit', 'inherit', 'ignore'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  child.once('error', (err) => fail(`could not start the bootstrap ${control.bootstrap}: ${err.message}`));
  child.once('exit', (code, signal) => {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (!initialised())
      fail(`the bootstrap ${how} before asking for an invocation (GET /2018-06-01/runtime/invocation/next)`);
    // After init the instance is the bootstrap: the platform sees the crash and replaces it.
    process.stderr.write(`the bootstrap ${how}; the instance stops\n`);
    process.exit(1);
  });
}

async function main(): Promise<void> {
  let control: ProvidedControl;
  try {
    control = takeControl(process.env);
  } catch (err) {
    fail((err as Error).message);
  }
  let initialised = false;
  let listening = false;
  const timer = setTimeout(
    () =>
      fail(
        `the bootstrap did not ask for an invocation (GET /2018-06-01/runtime/invocation/next) within ${INIT_TIMEOUT_MS}ms of starting (Lambda's init timeout)`,
      ),
    INIT_TIMEOUT_MS,
  );
  const readyIfBoth = () => {
    if (!initialised || !listening) return;
    clearTimeout(timer);
    report({ type: 'ready' });
  };
  const api = new RuntimeApi(control.functionArn, {
    initDone: () => {
      initialised = true;
      readyIfBoth();
    },
    initError: (errorType, message) =>
      fail(
        `the runtime failed to initialise: ${message.startsWith(`${errorType}: `) ? message : `${errorType}: ${message}`}`,
      ),
  });
  const address = await api
    .listen(control.port)
    .catch((err: unknown) =>
      fail(`could not serve the Runtime API on 127.0.0.1:${control.port}: ${(err as Error).message}`),
    );
  serveOnSocket(
    control.socketPath,
    (req, res) => handle(control, api, req, res),
    'provided shim',
    () => {
      listening = true;
      readyIfBoth();
    },
  );
  startBootstrap(control, address, () => initialised);
}

void main();
