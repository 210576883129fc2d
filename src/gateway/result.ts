/**
 * `GET /invocations/ID`: 202 with the status while an invocation is queued or running; once it
 * has ended, the function's own status, headers and body (or the failure as JSON), with
 * `x-kumo-status` and `x-kumo-attempt` saying how it ended.
 */
import type { ServerResponse } from 'node:http';
import { HEADERS, KumoError, TERMINAL_STATUSES } from '../core/index.ts';
import { sendError, sendJson } from '../http/index.ts';
import type { InvocationStore } from '../store/index.ts';

/** Answers with the result of invocation `id`, if `mayRead` allows its function. */
export async function serveResult(
  res: ServerResponse,
  store: InvocationStore,
  id: string,
  expectedFunction: string | undefined,
  mayRead: (fn: string) => Promise<boolean>,
): Promise<void> {
  const r = await store.get(id);
  if (!r || (expectedFunction !== undefined && r.function !== expectedFunction)) {
    sendError(
      res,
      new KumoError('invocation_not_found', `no invocation ${id} (unknown, or removed by history retention)`),
    );
    return;
  }
  // Access is decided on the record itself, never before it is read (mayRead answers a refusal).
  if (!(await mayRead(r.function))) return;
  const meta = {
    [HEADERS.invocationId]: r.id,
    'x-kumo-status': r.status,
    [HEADERS.attempt]: String(r.attempt),
  };
  if (!TERMINAL_STATUSES.includes(r.status)) {
    sendJson(
      res,
      202,
      { id: r.id, function: r.function, status: r.status, attempt: r.attempt, createdAt: r.createdAt },
      { ...meta, 'retry-after': '1' },
    );
    return;
  }
  if (r.statusCode === null) {
    sendJson(
      res,
      500,
      { error: r.error ?? { code: 'internal_error', message: 'the invocation ended without a result' } },
      meta,
    );
    return;
  }
  const body = r.responseBody ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    ...(r.responseHeaders ?? {}),
    ...meta,
    'content-length': String(body.length),
  };
  delete headers['transfer-encoding'];
  if (r.responseTruncated) headers['x-kumo-truncated'] = 'true';
  res.writeHead(r.statusCode, headers);
  res.end(body);
}
