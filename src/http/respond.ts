/** JSON and error responses, the one shape every route answers with. */
import type { ServerResponse } from 'node:http';
import { toKumoError, type KumoError } from '../core/index.ts';

/** Sends `body` as JSON with `status`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Sends an error as `{ error: { code, message } }` with its status. When the response has begun
 * there is no way to tell the client, so the connection is cut instead of sending a half body.
 */
export function sendError(
  res: ServerResponse,
  err: unknown,
  headers: Record<string, string> = {},
): KumoError {
  const error = toKumoError(err);
  // A refusal that says when to come back (429, 503) says it in Retry-After too.
  const retryAfter = (error.details as { retryAfter?: unknown } | undefined)?.retryAfter;
  const retry: Record<string, string> =
    typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {};
  if (res.headersSent) res.destroy();
  else sendJson(res, error.status, error.toBody(), { ...retry, ...headers });
  return error;
}
