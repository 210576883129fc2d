/**
 * The Lambda Runtime API (2018-06-01), served inside a provided instance on a loopback port of
 * the instance's own network namespace, for the bundle's `bootstrap` and nothing else:
 *   GET  /2018-06-01/runtime/invocation/next           → the next event (long poll)
 *   POST /2018-06-01/runtime/invocation/{id}/response  → that invocation's result
 *   POST /2018-06-01/runtime/invocation/{id}/error     → that invocation's error
 *   POST /2018-06-01/runtime/init/error                → the runtime could not start
 * with Lambda's headers and answers (202 `{"status":"OK"}`; 400 `InvalidRequestID`; 403
 * `InvalidStateTransition`; 413 `RequestEntityTooLarge`; 404 for anything else). One invocation
 * at a time, as on Lambda: the shim queues what the platform sends and hands the runtime the
 * next one when it asks. Everything the runtime sends is untrusted input.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Lambda's request and response headers of the Runtime API. */
export const RUNTIME_HEADERS = {
  requestId: 'lambda-runtime-aws-request-id',
  deadline: 'lambda-runtime-deadline-ms',
  functionArn: 'lambda-runtime-invoked-function-arn',
  traceId: 'lambda-runtime-trace-id',
  errorType: 'lambda-runtime-function-error-type',
} as const;

/** The version prefix of every Runtime API path. */
const PREFIX = '/2018-06-01/runtime/';

/** Lambda's limit of a synchronous response payload (and of an error payload, here). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** One invocation waiting for (or being worked on by) the runtime. */
export interface PendingInvocation {
  id: string;
  deadline: number;
  /** The event, as JSON bytes. */
  event: Buffer;
  traceId: string;
  /** Called once with what the runtime answered (or why it did not). */
  settle(outcome: Outcome): void;
}

/** How an invocation ended, from the runtime's side. */
export type Outcome =
  | { type: 'response'; body: Buffer }
  | { type: 'error'; body: Buffer; errorType: string }
  | { type: 'too_large'; limit: number }
  | { type: 'abandoned'; reason: string };

/** What the API tells its owner (the shim). */
export interface RuntimeApiEvents {
  /** The runtime's first call to /next: initialisation is over. */
  initDone(): void;
  /** The runtime posted /runtime/init/error before its first /next. */
  initError(errorType: string, message: string): void;
}

/** The Runtime API of one instance. */
export class RuntimeApi {
  private readonly server: Server;
  private readonly events: RuntimeApiEvents;
  private readonly functionArn: string;
  private readonly queue: PendingInvocation[] = [];
  private waiter: ServerResponse | null = null;
  private current: PendingInvocation | null = null;
  private initialised = false;

  constructor(functionArn: string, events: RuntimeApiEvents) {
    this.functionArn = functionArn;
    this.events = events;
    this.server = createServer({ noDelay: true, keepAliveTimeout: 0 }, (req, res) => this.route(req, res));
    // Clients kept waiting on /next for minutes are normal here: no request or header timeouts.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.timeout = 0;
  }

  /** Listens on 127.0.0.1:`port` (0: any free port); resolves with the `host:port` to give the runtime. */
  listen(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(`127.0.0.1:${typeof address === 'object' && address ? address.port : port}`);
      });
    });
  }

  /** Hands `invocation` to the runtime when it next asks (queued behind earlier ones). */
  invoke(invocation: PendingInvocation): void {
    this.queue.push(invocation);
    this.dispatch();
  }

  /** Forgets a queued invocation whose caller went away (one the runtime holds stays its own). */
  withdraw(invocation: PendingInvocation): void {
    const at = this.queue.indexOf(invocation);
    if (at !== -1) this.queue.splice(at, 1);
  }

  private dispatch(): void {
    const waiter = this.waiter;
    if (!waiter || this.current) return;
    const next = this.queue.shift();
    if (!next) return;
    this.waiter = null;
    this.current = next;
    waiter.writeHead(200, {
      'content-type': 'application/json',
      'content-length': next.event.length,
      [RUNTIME_HEADERS.requestId]: next.id,
      [RUNTIME_HEADERS.deadline]: String(next.deadline),
      [RUNTIME_HEADERS.functionArn]: this.functionArn,
      [RUNTIME_HEADERS.traceId]: next.traceId,
    });
    waiter.end(next.event);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}invocation/next`) return this.next(req, res);
    if (req.method === 'POST' && url === `${PREFIX}init/error`) return this.initError(req, res);
    const match =
      req.method === 'POST' ? /^invocation\/([^/]+)\/(response|error)$/.exec(url.slice(PREFIX.length)) : null;
    if (!url.startsWith(PREFIX) || !match) {
      req.resume();
      return answer(res, 404, {
        errorMessage: `no Runtime API route ${req.method ?? ''} ${url.slice(0, 200)}; see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html`,
        errorType: 'InvalidRequest',
      });
    }
    this.result(req, res, decode(match[1] as string), match[2] as 'response' | 'error');
  }

  private next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (this.waiter) {
      return answer(res, 403, {
        errorMessage: 'another /next request is already waiting',
        errorType: 'InvalidStateTransition',
      });
    }
    if (this.current) {
      // Lambda ends an invocation the runtime moved on from; the caller is told so.
      const left = this.current;
      this.current = null;
      left.settle({
        type: 'abandoned',
        reason: 'the runtime asked for the next invocation without posting a response or an error',
      });
    }
    this.waiter = res;
    res.once('close', () => {
      if (this.waiter === res) this.waiter = null;
    });
    if (!this.initialised) {
      this.initialised = true;
      this.events.initDone();
    }
    this.dispatch();
  }

  private initError(req: IncomingMessage, res: ServerResponse): void {
    void readLimited(req, MAX_RESPONSE_BYTES).then((body) => {
      if (this.initialised) {
        return answer(res, 403, {
          errorMessage: 'the runtime is already initialised: report errors per invocation',
          errorType: 'InvalidStateTransition',
        });
      }
      answer(res, 202, { status: 'OK' });
      const errorType = header(req, RUNTIME_HEADERS.errorType) ?? 'Runtime.Unknown';
      this.events.initError(errorType, body === null ? 'init error too large to show' : errorText(body));
    });
  }

  private result(req: IncomingMessage, res: ServerResponse, id: string, kind: 'response' | 'error'): void {
    const current = this.current;
    if (!current || current.id !== id) {
      req.resume();
      return answer(res, 400, {
        errorMessage: current
          ? `invalid request id ${JSON.stringify(id.slice(0, 100))}: the runtime is working on ${current.id}`
          : `invalid request id ${JSON.stringify(id.slice(0, 100))}: no invocation is in progress`,
        errorType: 'InvalidRequestID',
      });
    }
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_RESPONSE_BYTES) return this.tooLarge(req, res, current);
    void readLimited(req, MAX_RESPONSE_BYTES).then((body) => {
      if (this.current !== current) {
        // The invocation ended while its body arrived (the runtime moved on).
        return answer(res, 400, {
          errorMessage: 'the invocation already ended',
          errorType: 'InvalidRequestID',
        });
      }
      if (body === null) return this.tooLarge(req, res, current);
      this.current = null;
      // The caller first: the runtime's acknowledgement can wait a write.
      current.settle(
        kind === 'response'
          ? { type: 'response', body }
          : {
              type: 'error',
              body,
              errorType: header(req, RUNTIME_HEADERS.errorType) ?? payloadErrorType(body),
            },
      );
      accepted(res);
      this.dispatch();
    });
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse, current: PendingInvocation): void {
    this.current = null;
    current.settle({ type: 'too_large', limit: MAX_RESPONSE_BYTES });
    res.setHeader('connection', 'close');
    answer(res, 413, {
      errorMessage: `the response is larger than ${MAX_RESPONSE_BYTES} bytes`,
      errorType: 'RequestEntityTooLarge',
    });
    // The rest of the body is not read: the connection closes once the answer is out.
    res.once('finish', () => req.destroy());
    this.dispatch();
  }
}

/** A request body, or null past `limit` bytes (then the rest is not read). */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () =>
      resolve(size > limit ? null : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
    req.once('error', () => resolve(null));
  });
}

/** Lambda's acknowledgement of a response or error, made once (it is on every invocation's path). */
const ACCEPTED = Buffer.from('{"status":"OK"}');
const ACCEPTED_HEADERS = ['content-type', 'application/json', 'content-length', String(ACCEPTED.length)];

function accepted(res: ServerResponse): void {
  res.writeHead(202, ACCEPTED_HEADERS);
  res.end(ACCEPTED);
}

function answer(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The errorType a Lambda error payload names (runtime clients may send no header), else Lambda's default. */
function payloadErrorType(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown };
    if (typeof parsed.errorType === 'string' && parsed.errorType !== '')
      return parsed.errorType.slice(0, 200);
  } catch {
    // not JSON
  }
  return 'Runtime.Unknown';
}

/** `errorType: errorMessage` of a Lambda error payload, or its text (cut) when it is not one. */
export function errorText(body: Buffer): string {
  const text = body.subarray(0, 4096).toString('utf8');
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') {
      const type = typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : '';
      return `${type}${parsed.errorMessage}`.slice(0, 4096);
    }
  } catch {
    // not JSON: shown as sent
  }
  return text;
}
