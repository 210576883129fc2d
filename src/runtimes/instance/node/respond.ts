/**
 * Turning what a handler returned into an HTTP response, the same way in every style: a string is
 * text, bytes are bytes, anything else is JSON, and a thrown error is a 500 handler_error whose
 * message points at the logs (the stack goes to stderr, never to the client).
 */
import type { ServerResponse } from 'node:http';
import type { Invocation } from './invocation.ts';

/** Whether a value is raw bytes (Buffer, Uint8Array, any typed array, ArrayBuffer). */
export function isBytes(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** A Buffer over the same memory as `value`, without copying. */
export function toBuffer(value: ArrayBuffer | ArrayBufferView): Buffer {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** The body and default content type for a returned value; undefined and null mean no body. */
export function encodeValue(value: unknown): { body: Buffer; contentType: string } | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string')
    return { body: Buffer.from(value), contentType: 'text/plain; charset=utf-8' };
  if (isBytes(value)) return { body: toBuffer(value), contentType: 'application/octet-stream' };
  const json = JSON.stringify(value);
  // JSON.stringify returns undefined for functions and symbols: nothing sensible to send.
  if (json === undefined) return null;
  return { body: Buffer.from(json), contentType: 'application/json; charset=utf-8' };
}

/**
 * Sends `value` with `status`, keeping any content type the handler already set. An empty value is
 * sent as `emptyStatus` when given (204 for fetch style), else as `status` with no body.
 */
export function sendValue(res: ServerResponse, value: unknown, status: number, emptyStatus?: number): void {
  const encoded = encodeValue(value);
  if (encoded === null) {
    res.statusCode = emptyStatus ?? status;
    res.end();
    return;
  }
  res.statusCode = status;
  if (!res.hasHeader('content-type')) res.setHeader('content-type', encoded.contentType);
  res.setHeader('content-length', encoded.body.length);
  res.end(encoded.body);
}

/** The error body a client gets when the function threw; the details are in the logs. */
export function handlerErrorBody(invocation: Pick<Invocation, 'id' | 'functionName'>): string {
  const message = `the function threw an error (invocation ${invocation.id}); see kumo logs ${invocation.functionName}`;
  return JSON.stringify({ error: { code: 'handler_error', message } });
}

/**
 * Reports a handler failure: the stack to stderr (tagged with the invocation, as the caller runs
 * inside it), and a 500 handler_error to the client, or a cut connection when the response had
 * already started (a half-sent body must not look complete).
 */
export function failInvocation(res: ServerResponse, invocation: Invocation, err: unknown): void {
  console.error(`handler error in invocation ${invocation.id}:`, err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = handlerErrorBody(invocation);
  // Headers the handler set before it threw belong to a response that never happened.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.writeHead(500, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
