/** GET /history and GET /invocations/:id — the invocation history, as `kumo history` shows it. */
import { parseSince } from './logs.ts';
import {
  INVOCATION_STATUSES,
  KumoError,
  redactHeaders,
  TRIGGERS,
  type InvocationRecord,
  type InvocationStatus,
  type Trigger,
} from '../../core/index.ts';
import { queryOf, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { InvocationStore } from '../../store/index.ts';

/** What the history routes need. */
export interface HistoryRoutesDeps {
  invocations: InvocationStore;
  /** Writes buffered sync records, so a request that just finished is listed. */
  flushHistory: () => Promise<void>;
  /** Bodies are shown up to this many bytes. */
  bodyLimit: number;
  now: () => number;
}

const MAX_LIMIT = 1000;
const MAX_LOG_LINES = 1000;

/** GET /history and GET /invocations/:id. */
export function historyRoutes(d: HistoryRoutesDeps): Route[] {
  const h = historyHandlers(d);
  return [
    {
      method: 'GET',
      path: '/history',
      scope: 'read',
      tag: 'invocations',
      summary: 'Invocations, newest first',
      query: queryOf({
        function: 'only this function',
        status: `only invocations in this status (${INVOCATION_STATUSES.join(', ')})`,
        trigger: `only this trigger (${TRIGGERS.join(', ')})`,
        since: 'created after this: a duration before now (10m, 2h) or epoch ms',
        before: 'created before this epoch ms (paging)',
        limit: 'at most this many (default 50, max 1000)',
      }),
      handler: h.list,
    },
    {
      method: 'GET',
      path: '/invocations/:id',
      scope: 'read',
      tag: 'invocations',
      summary: 'One invocation in full: request, response, attempts, logs, callback deliveries',
      handler: h.get,
    },
  ];
}

function historyHandlers(d: HistoryRoutesDeps) {
  return {
    list: async ({ res, query }: RouteContext) => {
      await d.flushHistory();
      const limit = intParam(query.get('limit'), 'limit', 50, MAX_LIMIT);
      const rows = await d.invocations.list({
        function: query.get('function') ?? undefined,
        status: oneOf(query.get('status'), 'status', INVOCATION_STATUSES),
        trigger: oneOf(query.get('trigger'), 'trigger', TRIGGERS),
        since: parseSince(query.get('since'), d.now()),
        before:
          query.get('before') === null
            ? undefined
            : intParam(query.get('before'), 'before', 0, Number.MAX_SAFE_INTEGER),
        limit,
      });
      sendJson(res, 200, { invocations: rows.map(summaryView) });
    },
    get: async ({ res, params }: RouteContext) => {
      await d.flushHistory();
      sendJson(res, 200, await fullView(await mustGetInvocation(d.invocations, params.id ?? ''), d));
    },
  };
}

/** The invocation `id`, or invocation_not_found. */
export async function mustGetInvocation(store: InvocationStore, id: string): Promise<InvocationRecord> {
  const r = await store.get(id);
  if (!r)
    throw new KumoError(
      'invocation_not_found',
      `no invocation ${id} (unknown, or removed by history retention)`,
    );
  return r;
}

/** One invocation in a listing. */
export function summaryView(r: InvocationRecord) {
  return {
    id: r.id,
    function: r.function,
    version: r.version,
    // The alias the call came through (version is the one that served it).
    alias: r.alias,
    trigger: r.trigger,
    status: r.status,
    attempt: r.attempt,
    maxAttempts: r.maxAttempts,
    statusCode: r.statusCode,
    outcome: r.outcome,
    cold: r.cold,
    node: r.node ?? null,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    nextRunAt: r.status === 'queued' ? r.runAt : null,
    scheduleId: r.scheduleId,
    error: r.error,
    callback: r.callback
      ? {
          url: r.callback.url,
          state: r.callback.state,
          attempts: r.callback.attempts,
          lastError: r.callback.lastError,
        }
      : null,
  };
}

async function fullView(r: InvocationRecord, d: HistoryRoutesDeps) {
  const hidden = !r.bodiesKept;
  const summary = summaryView(r);
  return {
    ...summary,
    // Every delivery attempt of the callback: when, how it ended, the status or error, how long.
    callback: summary.callback
      ? { ...summary.callback, deliveries: await d.invocations.deliveries(r.id) }
      : null,
    bodies: !hidden,
    request: {
      method: r.request.method,
      path: r.request.path,
      headers: redactHeaders(r.request.headers),
      ...bodyView(hidden ? null : r.requestBody, r.requestTruncated, d.bodyLimit),
    },
    response:
      r.responseHeaders === null
        ? null
        : {
            headers: redactHeaders(r.responseHeaders),
            ...bodyView(hidden ? null : r.responseBody, r.responseTruncated, d.bodyLimit),
          },
    attempts: await attemptsOf(r, d.invocations),
    logs: (await d.invocations.logs(r.id, MAX_LOG_LINES)).map((l) => ({
      time: l.time,
      stream: l.stream,
      line: l.line,
    })),
  };
}

/** The attempts of a queued invocation; a sync one is its own single attempt. */
async function attemptsOf(r: InvocationRecord, store: InvocationStore) {
  const stored = await store.attempts(r.id);
  if (stored.length || r.trigger !== 'http') return stored.map(({ invocationId: _id, ...a }) => a);
  return [
    {
      attempt: 1,
      version: r.version,
      startedAt: r.startedAt ?? r.createdAt,
      finishedAt: r.finishedAt,
      durationMs: r.durationMs,
      statusCode: r.statusCode,
      outcome: r.outcome,
      cold: r.cold,
      error: r.error?.code ?? null,
      node: r.node ?? null,
    },
  ];
}

/** A body as JSON: UTF-8 text when it is text, else base64; cut at `limit` bytes. */
function bodyView(body: Buffer | null, truncated: boolean, limit: number) {
  if (body === null) return { body: null, encoding: null, size: null, truncated };
  const shown = body.length > limit ? body.subarray(0, limit) : body;
  const text = shown.toString('utf8');
  const isText = !text.includes('\uFFFD') && !hasControlCharacters(text);
  return {
    body: isText ? text : shown.toString('base64'),
    encoding: isText ? 'utf8' : 'base64',
    size: body.length,
    truncated: truncated || shown.length < body.length,
  };
}

/** True when `text` has C0 control characters other than tab, newline and carriage return (binary data). */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return true;
  }
  return false;
}

function intParam(text: string | null, name: string, def: number, max: number): number {
  if (text === null) return def;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new KumoError(
      'bad_request',
      `"${name}" must be a whole number from 0 to ${max} (got ${JSON.stringify(text)})`,
    );
  return n;
}

function oneOf<T extends string>(text: string | null, name: string, allowed: readonly T[]): T | undefined {
  if (text === null || text === '') return undefined;
  if (!(allowed as readonly string[]).includes(text))
    throw new KumoError(
      'bad_request',
      `"${name}" must be one of ${allowed.join(', ')} (got ${JSON.stringify(text)})`,
    );
  return text as T;
}

/** Re-exported for the stats route. */
export type { InvocationStatus, Trigger };
