/** GET /functions/:name/logs — stored lines, or (follow=1) stored lines then live ones as NDJSON. */
import { KumoError, parseDuration, type LogLine } from '../../core/index.ts';
import { queryOf, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { FunctionStore } from '../../store/index.ts';
import { mustGet } from './functions.ts';

/** Live log lines, as the telemetry part provides them. */
export interface LogFeed {
  subscribe(fn: string, listener: (line: LogLine) => void): () => void;
  flush(): Promise<void>;
}

/** What the log route needs. */
export interface LogRoutesDeps {
  store: FunctionStore;
  feed: LogFeed;
  now: () => number;
}

const MAX_LIMIT = 10_000;

/** GET /functions/:name/logs. */
export function logsRoute(d: LogRoutesDeps): Route {
  return {
    method: 'GET',
    path: '/functions/:name/logs',
    scope: 'read',
    tag: 'functions',
    summary: "A function's log lines, oldest first; with follow=1 an NDJSON stream of new lines",
    query: queryOf({
      since: 'lines after this: a duration before now (10m, 2h) or epoch ms',
      until: 'lines before this (the same forms)',
      q: 'only lines containing this text (ASCII case ignored)',
      limit: 'at most this many lines, the newest of the window (default 200, max 10000)',
      follow: '1: keep the response open and stream new lines as NDJSON',
    }),
    handler: logsHandler(d),
  };
}

function logsHandler(d: LogRoutesDeps) {
  return async ({ req, res, params, query }: RouteContext) => {
    const fn = await mustGet(d.store, params.name ?? '');
    const since = parseSince(query.get('since'), d.now());
    const limitText = query.get('limit');
    const limit = limitText === null ? 200 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new KumoError(
        'bad_request',
        `"limit" must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(limitText)})`,
      );
    }
    const until = parseSince(query.get('until'), d.now());
    const contains = query.get('q') || undefined;
    const filter = (line: LogLine) => contains === undefined || matches(line.line, contains);
    await d.feed.flush();
    if (query.get('follow') !== '1' && query.get('follow') !== 'true') {
      const lines = await d.store.queryLogs({ function: fn.name, since, until, contains, limit });
      sendJson(res, 200, { lines: lines.map(publicLine) });
      return;
    }
    // Subscribe before reading the store, then drop live lines already sent: no gap, no repeat.
    const early: LogLine[] = [];
    let lastId = 0;
    let live = false;
    const send = (line: LogLine) => {
      if ((line.id ?? 0) <= lastId || !filter(line)) return;
      lastId = line.id ?? lastId;
      res.write(`${JSON.stringify(publicLine(line))}\n`);
    };
    const unsubscribe = d.feed.subscribe(fn.name, (line) => (live ? send(line) : early.push(line)));
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
    });
    const heartbeat = setInterval(() => res.write('\n'), 15_000);
    req.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
    for (const line of await d.store.queryLogs({ function: fn.name, since, contains, limit })) send(line);
    for (const line of early) send(line);
    live = true;
    res.flushHeaders();
  };
}

/** `10m`-style durations before now, or epoch milliseconds. */
export function parseSince(text: string | null, now: number): number | undefined {
  if (text === null || text === '') return undefined;
  if (/^\d{12,}$/.test(text)) return Number(text);
  const ms = parseDuration(text, 's');
  if (ms === undefined)
    throw new KumoError(
      'bad_request',
      `"since" must be a duration like 10m or 2h, or epoch ms (got ${JSON.stringify(text)})`,
    );
  return now - ms;
}

/** Whether `line` contains `text`, ignoring ASCII case as SQLite's lower() does. */
function matches(line: string, text: string): boolean {
  return asciiLower(line).includes(asciiLower(text));
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function publicLine(l: LogLine) {
  return {
    time: l.time,
    function: l.function,
    version: l.version,
    invocationId: l.invocationId,
    stream: l.stream,
    line: l.line,
  };
}
