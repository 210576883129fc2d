/**
 * GET /functions/:name/stats/buckets — a function's invocations cut into time buckets (count,
 * errors, p50/p95 latency, cold starts, peak instances), for charts over a chosen window.
 */
import { KumoError, parseDuration } from '../../core/index.ts';
import { queryOf, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { FunctionStore, InvocationStore, StatsBucketRow } from '../../store/index.ts';
import { mustGet } from './functions.ts';
import { parseSince } from './logs.ts';
import { percentile } from './stats.ts';

/** What the bucket routes need. */
export interface BucketRoutesDeps {
  store: FunctionStore;
  invocations: InvocationStore;
  flushHistory: () => Promise<void>;
  /** Peak instance count of a function per bucket (absent: zeros). */
  instancePeaks?: (fn: string, start: number, step: number, count: number) => number[];
  now: () => number;
}

/** One time bucket. */
export interface StatsBucket {
  /** Start of the bucket (epoch ms); it covers [start, start + step). */
  start: number;
  count: number;
  errors: number;
  p50: number;
  p95: number;
  coldStarts: number;
  instances: number;
}

/** A window cut into buckets. */
export interface BucketWindow {
  start: number;
  until: number;
  step: number;
  count: number;
}

const DAY_MS = 86_400_000;
const MAX_BUCKETS = 1000;

/**
 * The window of `since` (default 24h) to now cut into `step`-long buckets (default: about 48 of
 * them). Buckets are aligned to multiples of the step, so two calls a moment apart agree.
 */
export function bucketWindow(sinceText: string | null, stepText: string | null, now: number): BucketWindow {
  const since = parseSince(sinceText, now) ?? now - DAY_MS;
  if (since >= now) throw new KumoError('bad_request', `"since" must be in the past (got ${sinceText})`);
  let step: number;
  if (stepText === null || stepText === '') step = niceStep((now - since) / 48);
  else {
    const parsed = parseDuration(stepText, 's');
    if (parsed === undefined || parsed < 1000)
      throw new KumoError(
        'bad_request',
        `"step" must be a duration of at least 1s like 5m or 1h (got ${JSON.stringify(stepText)})`,
      );
    step = parsed;
  }
  const start = Math.floor(since / step) * step;
  const count = Math.ceil((now + 1 - start) / step);
  if (count > MAX_BUCKETS)
    throw new KumoError(
      'bad_request',
      `the window of ${Math.round((now - since) / 1000)}s in steps of ${step / 1000}s makes ${count} buckets; at most ${MAX_BUCKETS} (use a larger "step")`,
    );
  return { start, until: now, step, count };
}

/** The smallest of 1s, 10s, 1m, 5m, 15m, 30m, 1h, 6h, 1d that is at least `ms`. */
function niceStep(ms: number): number {
  const steps = [1000, 10_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 21_600_000, DAY_MS];
  return steps.find((s) => s >= ms) ?? DAY_MS;
}

/** The buckets of `w` from the store's non-empty ones (`rows`) and the peak instance counts. */
export function bucketize(
  rows: readonly StatsBucketRow[],
  w: BucketWindow,
  instances?: number[],
): StatsBucket[] {
  const buckets: StatsBucket[] = Array.from({ length: w.count }, (_v, i) => ({
    start: w.start + i * w.step,
    count: 0,
    errors: 0,
    p50: 0,
    p95: 0,
    coldStarts: 0,
    instances: instances?.[i] ?? 0,
  }));
  for (const r of rows) {
    const b = buckets[r.index];
    if (!b) continue;
    const sorted = [...r.durations].sort((x, y) => x - y);
    b.count = r.count;
    b.errors = r.errors;
    b.coldStarts = r.coldStarts;
    b.p50 = percentile(sorted, 50);
    b.p95 = percentile(sorted, 95);
  }
  return buckets;
}

/** GET /functions/:name/stats/buckets. */
export function statsBucketsRoute(d: BucketRoutesDeps): Route {
  return {
    method: 'GET',
    path: '/functions/:name/stats/buckets',
    scope: 'read',
    tag: 'dashboard',
    summary: "A function's invocations in time buckets (count, errors, p50/p95, cold starts, instances)",
    query: queryOf({
      since: 'the window start: a duration before now (default 24h) or epoch ms',
      step: 'the bucket length, at least 1s (default about 48 buckets); at most 1000 buckets',
    }),
    handler: statsBucketsHandler(d),
  };
}

function statsBucketsHandler(d: BucketRoutesDeps) {
  return async ({ res, params, query }: RouteContext) => {
    const fn = (await mustGet(d.store, params.name ?? '')).name;
    await d.flushHistory();
    const w = bucketWindow(query.get('since'), query.get('step'), d.now());
    const rows = await d.invocations.statsBuckets(fn, w.start, w.step);
    const peaks = d.instancePeaks?.(fn, w.start, w.step, w.count);
    sendJson(res, 200, {
      function: fn,
      since: w.start,
      until: w.until,
      step: w.step,
      buckets: bucketize(rows, w, peaks),
    });
  };
}
