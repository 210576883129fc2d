/** Row conversions shared by the SQLite history and queue stores (one table holds both). */
import type { InvocationRecord, Outcome } from '../../core/index.ts';

/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

/** Invocations in a terminal state (history; the queue is done with them). */
export const TERMINAL_SQL = "('succeeded', 'failed', 'dead')";

/** A nullable boolean as a nullable 0/1. */
export function bool(v: boolean | null): number | null {
  return v === null ? null : v ? 1 : 0;
}

/** A nullable number column. */
export function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A BLOB column as a Buffer (sharing its memory), or null. */
export function buf(v: unknown): Buffer | null {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : null;
}

/** A nullable JSON text column, parsed. */
export function json<T>(v: unknown): T | null {
  return v === null || v === undefined ? null : (JSON.parse(String(v)) as T);
}

/** A row of `invocations` as an InvocationRecord (bodies null when not selected). */
export function toRecord(r: Row): InvocationRecord {
  return {
    id: String(r.id),
    function: String(r.function),
    version: num(r.version),
    trigger: String(r.trigger) as InvocationRecord['trigger'],
    status: String(r.status) as InvocationRecord['status'],
    attempt: Number(r.attempt),
    maxAttempts: Number(r.max_attempts),
    statusCode: num(r.status_code),
    outcome: r.outcome === null ? null : (String(r.outcome) as Outcome),
    cold: r.cold === null ? null : Number(r.cold) === 1,
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    durationMs: num(r.duration_ms),
    runAt: num(r.run_at),
    scheduleId: r.schedule_id === null ? null : String(r.schedule_id),
    request: JSON.parse(String(r.request)) as InvocationRecord['request'],
    requestBody: buf(r.request_body),
    requestTruncated: Number(r.request_truncated) === 1,
    responseHeaders: json<Record<string, string>>(r.response_headers),
    responseBody: buf(r.response_body),
    responseTruncated: Number(r.response_truncated) === 1,
    error: json<{ code: string; message: string }>(r.error),
    bodiesKept: Number(r.bodies_kept) === 1,
    callback:
      r.callback_url === null || r.callback_url === undefined
        ? null
        : {
            url: String(r.callback_url),
            taskToken: r.task_token === null ? null : String(r.task_token),
            state: (r.callback_state === null ? 'pending' : String(r.callback_state)) as
              'pending' | 'delivered' | 'failed',
            attempts: Number(r.callback_attempts),
            nextAt: num(r.callback_next_at),
            lastError: r.callback_error === null ? null : String(r.callback_error),
          },
  };
}
