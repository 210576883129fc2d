/**
 * Node style: `handler(req, res)` with Node's own IncomingMessage and ServerResponse, so a plain
 * `http` handler (writeHead/write/end, streaming) works unchanged. Added for convenience, as in
 * Appwrite's runtimes: `req.payload` (the body, parsed when JSON), `req.body` (raw bytes),
 * `req.env` (the function's variables), `res.send(data, status?)` and `res.json(value, status?)`.
 */
import { IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Adapter, HandlerFunction } from '../invocation.ts';
import { sendValue } from '../respond.ts';

/** The request a node-style handler receives. */
export interface NodeStyleRequest extends IncomingMessage {
  /** The body parsed as JSON when it is JSON, else the text; undefined when empty. */
  payload: unknown;
  /** The raw body. */
  body: Buffer;
  /** The function's own variables. */
  env: Record<string, string>;
  invocationId: string;
  /** Epoch ms after which the platform kills the instance. */
  deadline: number;
}

/** The response a node-style handler receives. */
export interface NodeStyleResponse extends ServerResponse {
  /** Sends a string or bytes as is, anything else as JSON, and ends the response. */
  send(data: unknown, status?: number): NodeStyleResponse;
  /** Sends `value` as JSON and ends the response. */
  json(value: unknown, status?: number): NodeStyleResponse;
}

/** Serves invocations with a node-style handler. */
export function nodeAdapter(fn: HandlerFunction, thisArg: unknown): Adapter {
  return async (req, res, invocation) => {
    const request = Object.assign(replayRequest(req, invocation.body), {
      payload: parsePayload(invocation.body, req.headers['content-type']),
      body: invocation.body,
      env: { ...invocation.vars },
      invocationId: invocation.id,
      deadline: invocation.deadline,
    });
    const response = withHelpers(res);
    const result: unknown = await fn.call(thisArg, request, response);
    // A handler that returns a value instead of ending the response means "send this".
    if (result !== undefined && !res.headersSent && !res.writableEnded)
      sendValue(res, result, res.statusCode);
  };
}

/**
 * A fresh IncomingMessage carrying the already-read body. The shim reads the body before the
 * handler runs (to offer `req.body` and `req.payload`), which ends the original stream; the copy
 * lets a handler that reads the body itself (`req.on('data')`, `for await`, `pipe`) get it all.
 */
export function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.rawHeaders = req.rawHeaders;
  copy.headers = req.headers;
  copy.rawTrailers = req.rawTrailers;
  copy.trailers = req.trailers;
  copy.complete = true;
  // The copy owns no socket state: destroying it (even unread) must not cut the connection,
  // which IncomingMessage's own _destroy does for a request it thinks was aborted.
  copy._destroy = (err, callback) => callback(err);
  if (body.length > 0) copy.push(body);
  copy.push(null);
  return copy;
}

/** `req.payload`: JSON when the body is JSON (by content type or by its first character), else text. */
export function parsePayload(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  const looksJson = contentType?.toLowerCase().includes('json') || /^\s*[[{]/.test(text);
  if (!looksJson) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Adds `send` and `json` to `res`. */
function withHelpers(res: ServerResponse): NodeStyleResponse {
  const response = res as NodeStyleResponse;
  response.send = (data, status) => {
    sendValue(res, data, status ?? res.statusCode);
    return response;
  };
  response.json = (value, status) => {
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8');
    // undefined (and a function) has no JSON form; null is the nearest honest answer.
    const json = JSON.stringify(value) ?? 'null';
    sendValue(res, Buffer.from(json), status ?? res.statusCode);
    return response;
  };
  return response;
}
