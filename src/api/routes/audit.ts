/** GET /audit — the audit log, newest first, filtered by time, key or function. */
import { KumoError, type AuditEntry, type AuditQuery } from '../../core/index.ts';
import { queryOf, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import { parseSince } from './logs.ts';

/** The audit log as the route reads it. */
export interface AuditReader {
  query(query: AuditQuery): Promise<AuditEntry[]>;
}

/** What the audit route needs. */
export interface AuditRouteDeps {
  audit: AuditReader;
  now: () => number;
}

const MAX_LIMIT = 10_000;

/** GET /audit. */
export function auditRoute(d: AuditRouteDeps): Route {
  return {
    method: 'GET',
    path: '/audit',
    scope: 'admin',
    tag: 'access',
    summary: 'The audit log of control-plane requests, newest first',
    query: queryOf({
      since: 'entries after this: a duration before now (10m, 2h) or epoch ms',
      limit: 'at most this many entries (default 100, max 10000)',
      key: "only this key's requests (a key id)",
      function: 'only requests about this function',
    }),
    handler: auditHandler(d),
  };
}

function auditHandler(d: AuditRouteDeps) {
  return async ({ res, query }: RouteContext) => {
    const limitText = query.get('limit');
    const limit = limitText === null ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new KumoError(
        'bad_request',
        `"limit" must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(limitText)})`,
      );
    }
    const q: AuditQuery = { limit };
    const since = parseSince(query.get('since'), d.now());
    if (since !== undefined) q.since = since;
    const key = query.get('key');
    if (key) q.keyId = key;
    const fn = query.get('function');
    if (fn) q.function = fn;
    sendJson(res, 200, { entries: await d.audit.query(q) });
  };
}
