/**
 * The response of an async run: the function's status, headers and body kept in memory (up to a
 * limit) instead of streamed to a client, for the queue to store as the invocation's result.
 */
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import { toKumoError, type KumoError } from '../core/index.ts';
import { captureChunk, type BodyCapture, type ResponseSink } from './proxy.ts';

/** A ResponseSink that keeps what it is sent. */
export class BufferedResponse extends EventEmitter implements ResponseSink {
  status = 0;
  headers: OutgoingHttpHeaders = {};
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  readonly capture: BodyCapture;

  constructor(limit: number) {
    super();
    this.capture = { limit, chunks: [], size: 0, truncated: false };
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {}

  write(chunk: Buffer): boolean {
    captureChunk(this.capture, chunk);
    return true;
  }

  end(cb: () => void): this {
    this.writableFinished = true;
    queueMicrotask(cb);
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }

  /** Replaces whatever was received by the error's JSON body and status (a run that failed has no partial result). */
  fail(err: unknown, headers: Record<string, string>): KumoError {
    const error = toKumoError(err);
    const body = Buffer.from(JSON.stringify(error.toBody()));
    this.status = error.status;
    this.headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
      ...headers,
    };
    this.headersSent = true;
    this.capture.chunks = [body];
    this.capture.size = body.length;
    this.capture.truncated = false;
    return error;
  }

  /** The body received (up to the limit). */
  body(): Buffer {
    return this.capture.chunks.length === 1
      ? (this.capture.chunks[0] as Buffer)
      : Buffer.concat(this.capture.chunks, this.capture.size);
  }
}
