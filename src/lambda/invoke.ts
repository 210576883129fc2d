/**
 * Invoke and InvokeWithResponseStream: a Lambda call becomes one kumo invocation run by the
 * Invoker (same pool, deadline, history and metrics as /fn/NAME), with the payload as the body of
 * a direct invocation (`x-kumo-lambda-invoke`: a Lambda-style handler gets it as its event).
 * `Event` goes to kumo's durable queue, `DryRun` only resolves the function. A function's own
 * failure (thrown error, timeout, crash, memory) answers 200 with `X-Amz-Function-Error:
 * Unhandled` and Lambda's error payload, as on AWS; kumo's refusals (404, 429, …) are errors.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HEADERS, KumoError, toKumoError, type ErrorCode } from '../core/index.ts';
import type { Invoker } from '../gateway/index.ts';
import type { PoolTarget } from '../pool/index.ts';
import type { AsyncQueue } from '../queue/index.ts';
import type { ActiveVersions } from '../store/index.ts';
import { invalidContent, invalidParameter } from './errors.ts';
import { eventMessage } from './event-stream.ts';
import type { LambdaContext } from './operation.ts';
import { parseFunctionName } from './shapes.ts';

/** What the invoke operations need. */
export interface InvokeDeps {
  invoker: Invoker;
  versions: ActiveVersions;
  queue: AsyncQueue;
  /** The log lines of an invocation, once they have been written. */
  logLines: (invocationId: string) => Promise<string[]>;
  /** Largest response kept for RequestResponse. */
  responseLimit: number;
  /** Largest Event payload (Lambda's async limit). */
  asyncBodyLimit: number;
  /** Bytes of a response kept in the history (0: none). */
  historyBodyLimit: number;
  now: () => number;
}

/** The headers of a direct invocation, as the function sees them. */
const DIRECT: OutgoingHttpHeaders = { 'content-type': 'application/json', [HEADERS.lambdaInvoke]: '1' };
/** Lambda's Tail: the last 4 KB of the log. */
const TAIL_BYTES = 4096;

/** kumo's failures that are the function's own: answered 200 with Unhandled, as Lambda does. */
const FUNCTION_FAILURES: Partial<Record<ErrorCode, string>> = {
  deadline_exceeded: 'Sandbox.Timedout',
  memory_limit_exceeded: 'Runtime.OutOfMemory',
  process_limit_exceeded: 'Runtime.ExitError',
  tmp_limit_exceeded: 'Runtime.ExitError',
  instance_crashed: 'Runtime.ExitError',
  instance_failed_to_start: 'Runtime.InitError',
  handler_error: 'Runtime.HandlerError',
  upgrade_not_supported: 'Runtime.InvalidResponse',
};

/** Invoke (buffered) or InvokeWithResponseStream (`stream`). */
export async function invoke(d: InvokeDeps, ctx: LambdaContext, stream: boolean): Promise<void> {
  const { name, qualifier } = parseFunctionName(ctx.params.name ?? '', ctx.query.get('Qualifier'));
  const type = header(ctx, 'x-amz-invocation-type') ?? 'RequestResponse';
  const tail = (header(ctx, 'x-amz-log-type') ?? 'None') === 'Tail';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type) || (stream && type === 'Event'))
    throw invalidParameter(
      `InvocationType ${JSON.stringify(type.slice(0, 40))} is not one of RequestResponse, Event, DryRun`,
    );
  if (!['None', 'Tail'].includes(header(ctx, 'x-amz-log-type') ?? 'None'))
    throw invalidParameter('LogType must be None or Tail');
  if (ctx.body.length && !isJson(ctx.body))
    throw invalidContent('Could not parse request body into json: the payload is not JSON');
  if (type === 'DryRun') {
    const serving = await d.versions.serving(name, qualifier, 0);
    if (!serving) throw notFound(name);
    ctx.res.writeHead(204, {
      'x-amzn-requestid': ctx.requestId,
      'x-amz-executed-version': String(serving.target.version),
    });
    ctx.res.end();
    return;
  }
  if (type === 'Event') return invokeEvent(d, ctx, name, qualifier);
  return stream
    ? invokeStreaming(d, ctx, name, qualifier, tail)
    : invokeBuffered(d, ctx, name, qualifier, tail);
}

async function invokeEvent(d: InvokeDeps, ctx: LambdaContext, name: string, qualifier: string | undefined) {
  if (ctx.body.length > d.asyncBodyLimit)
    throw new KumoError(
      'payload_too_large',
      `an Event payload is at most ${d.asyncBodyLimit} bytes (got ${ctx.body.length})`,
    );
  if (!(await d.versions.serving(name, qualifier, 0))) throw notFound(name);
  const id = await d.queue.enqueue({
    function: name,
    trigger: 'async',
    request: {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', [HEADERS.lambdaInvoke]: '1' },
    },
    body: ctx.body,
    alias: qualifier ?? null,
  });
  ctx.res.writeHead(202, { 'x-amzn-requestid': id, 'content-length': '0' });
  ctx.res.end();
}

/** One run through the Invoker into `sink`; the kumo failure, if any, is returned, not answered. */
async function run(
  d: InvokeDeps,
  ctx: LambdaContext,
  name: string,
  qualifier: string | undefined,
  sink: BufferedSink | EventStreamSink,
) {
  let target: PoolTarget | undefined;
  let failure: KumoError | undefined;
  const startedAt = d.now();
  await d.invoker.invoke(
    {
      id: ctx.requestId,
      function: name,
      qualifier,
      trigger: 'http',
      attempt: 1,
      method: 'POST',
      path: '/',
      headers: DIRECT,
      body: ctx.body,
      startedAt,
    },
    {
      sink,
      fail: (err) => (failure = toKumoError(err)),
      capture: (t) => {
        target = t;
        sink.executedVersion = t.version;
        return t.spec.history?.bodies !== false && d.historyBodyLimit > 0
          ? { limit: d.historyBodyLimit, chunks: [], size: 0, truncated: false }
          : undefined;
      },
    },
  );
  const failed = failure as KumoError | undefined;
  return {
    target,
    failure: failed?.code === 'function_not_found' ? notFound(name) : failed,
    durationMs: d.now() - startedAt,
  };
}

async function invokeBuffered(
  d: InvokeDeps,
  ctx: LambdaContext,
  name: string,
  qualifier: string | undefined,
  tail: boolean,
) {
  const sink = new BufferedSink(d.responseLimit);
  const { target, failure, durationMs } = await run(d, ctx, name, qualifier, sink);
  let payload = sink.body();
  let functionError = sink.functionError();
  if (failure) {
    const errorType = FUNCTION_FAILURES[failure.code];
    if (!errorType) throw failure;
    functionError = 'Unhandled';
    payload = Buffer.from(JSON.stringify({ errorType, errorMessage: failure.message }));
  }
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'x-amzn-requestid': ctx.requestId,
    ...(target ? { 'x-amz-executed-version': String(target.version) } : {}),
    ...(functionError ? { 'x-amz-function-error': functionError } : {}),
    ...(tail && target ? { 'x-amz-log-result': await logResult(d, ctx.requestId, target, durationMs) } : {}),
  };
  ctx.res.writeHead(200, headers);
  ctx.res.end(payload);
}

async function invokeStreaming(
  d: InvokeDeps,
  ctx: LambdaContext,
  name: string,
  qualifier: string | undefined,
  tail: boolean,
) {
  const sink = new EventStreamSink(ctx.res, ctx.requestId);
  const { target, failure, durationMs } = await run(d, ctx, name, qualifier, sink);
  if (failure && !sink.started) {
    const errorType = FUNCTION_FAILURES[failure.code];
    if (!errorType) throw failure;
    sink.fail('Unhandled', JSON.stringify({ errorType, errorMessage: failure.message }));
  } else if (failure) sink.fail('Unhandled', failure.message);
  sink.complete(tail && target ? await logResult(d, ctx.requestId, target, durationMs) : undefined);
}

/** Lambda's log tail: START, the invocation's lines, END and REPORT; the last 4 KB, base64. */
async function logResult(d: InvokeDeps, id: string, target: PoolTarget, durationMs: number): Promise<string> {
  const lines = await d.logLines(id);
  const text = [
    `START RequestId: ${id} Version: ${target.version}`,
    ...lines,
    `END RequestId: ${id}`,
    `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${target.spec.memory} MB`,
    '',
  ].join('\n');
  const bytes = Buffer.from(text, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)).toString('base64');
}

/** A ResponseSink keeping the function's answer in memory (RequestResponse). */
class BufferedSink {
  status = 0;
  headers: OutgoingHttpHeaders = {};
  executedVersion = 0;
  destroyed = false;
  writableFinished = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    this.status = status;
    this.headers = headers;
    return this;
  }

  flushHeaders(): void {}

  write(chunk: Buffer): boolean {
    // The Invoker cuts a response over its own limit; this bound only keeps memory in step with it.
    if (this.size + chunk.length <= this.limit) this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  end(cb: () => void): this {
    this.writableFinished = true;
    queueMicrotask(cb);
    return this;
  }

  once(): this {
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    return this;
  }

  body(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
  }

  /** `Unhandled` when the handler threw (the runtime's header) or the function answered 5xx. */
  functionError(): string | undefined {
    const h = this.headers[HEADERS.functionError];
    if (typeof h === 'string') return h;
    return this.status >= 500 ? 'Unhandled' : undefined;
  }
}

/**
 * A ResponseSink writing the function's answer as event-stream PayloadChunk messages while it
 * arrives, then InvokeComplete (with the error, and the log tail when asked).
 */
class EventStreamSink {
  executedVersion = 0;
  started = false;
  private error: { code: string; details: Buffer[] } | undefined;
  private readonly res: ServerResponse;
  private readonly requestId: string;

  constructor(res: ServerResponse, requestId: string) {
    this.res = res;
    this.requestId = requestId;
  }

  get destroyed(): boolean {
    return this.res.destroyed;
  }

  get writableFinished(): boolean {
    return this.started && this.res.writableFinished;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    const h = headers[HEADERS.functionError];
    if (typeof h === 'string' || status >= 500)
      this.error = { code: typeof h === 'string' ? h : 'Unhandled', details: [] };
    this.start();
    return this;
  }

  flushHeaders(): void {
    this.res.flushHeaders();
  }

  write(chunk: Buffer): boolean {
    if (this.error) {
      this.error.details.push(chunk);
      return true;
    }
    return this.res.write(eventMessage('PayloadChunk', 'application/octet-stream', chunk));
  }

  /** The function's body is done; InvokeComplete follows once the run is recorded (complete). */
  end(cb: () => void): this {
    queueMicrotask(cb);
    return this;
  }

  once(event: 'drain' | 'close', listener: () => void): this {
    this.res.once(event, listener);
    return this;
  }

  destroy(error?: Error): this {
    this.res.destroy(error);
    return this;
  }

  /** A failure after or instead of the function's answer. */
  fail(code: string, details: string): void {
    this.start();
    this.error = { code, details: [Buffer.from(details)] };
  }

  /** Writes InvokeComplete and ends the response. */
  complete(logResult: string | undefined): void {
    this.start();
    if (this.res.destroyed) return;
    const done = {
      ...(this.error
        ? { ErrorCode: this.error.code, ErrorDetails: Buffer.concat(this.error.details).toString('utf8') }
        : {}),
      ...(logResult ? { LogResult: logResult } : {}),
    };
    this.res.end(eventMessage('InvokeComplete', 'application/json', Buffer.from(JSON.stringify(done))));
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': this.requestId,
      'x-amz-executed-version': String(this.executedVersion),
    });
  }
}

function header(ctx: LambdaContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function notFound(name: string): KumoError {
  return new KumoError('function_not_found', `Function not found: ${name}`);
}
