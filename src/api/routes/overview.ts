/**
 * GET /overview — every function at a glance in one call: runtime, active version, instances,
 * and over a window (default 24h) its invocations, error rate, p95, cold-start share and a
 * per-bucket count for a sparkline. The console's functions view and `kumo list`-style tools
 * read it instead of one request per function.
 */
import { queryOf, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { InstancePool } from '../../pool/index.ts';
import type { ActiveVersions, FunctionStore, InvocationStore, StatsBucketRow } from '../../store/index.ts';
import { bucketWindow } from './stats-buckets.ts';
import { percentile } from './stats.ts';

/** What the overview needs. */
export interface OverviewDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  invocations: InvocationStore;
  flushHistory: () => Promise<void>;
  now: () => number;
}

/** GET /overview. */
export function overviewRoute(d: OverviewDeps): Route {
  return {
    method: 'GET',
    path: '/overview',
    scope: 'read',
    tag: 'dashboard',
    summary: "Every function's figures and sparkline over a window, in one call",
    query: queryOf({
      since: 'the window start: a duration before now (default 24h) or epoch ms',
      step: 'the sparkline bucket (1m, 1h, …; default about 48 buckets)',
    }),
    handler: overviewHandler(d),
  };
}

function overviewHandler(d: OverviewDeps) {
  return async ({ res, query }: RouteContext) => {
    await d.flushHistory();
    const w = bucketWindow(query.get('since'), query.get('step'), d.now());
    // One aggregate over an indexed range per function (a covering index).
    const functions = [];
    for (const fn of await d.store.listFunctions()) {
      const rows = await d.invocations.statsBuckets(fn.name, w.start, w.step);
      const spark = new Array<number>(w.count).fill(0);
      for (const r of rows) if (r.index >= 0 && r.index < w.count) spark[r.index] = r.count;
      const spec = d.versions.get(fn.name)?.spec;
      const pool = d.pool.stats(fn.name);
      functions.push({
        name: fn.name,
        runtime: spec?.runtime ?? null,
        access: spec?.access ?? null,
        activeVersion: fn.activeVersion,
        updatedAt: fn.updatedAt,
        instances: { total: pool.total, busy: pool.busy },
        ...figures(rows),
        spark,
      });
    }
    sendJson(res, 200, {
      since: w.start,
      until: w.until,
      step: w.step,
      functions,
    });
  };
}

/** Count, errors, latency percentiles and cold starts of a function's buckets together. */
function figures(rows: readonly StatsBucketRow[]) {
  const durations = rows.flatMap((r) => r.durations).sort((a, b) => a - b);
  const count = rows.reduce((n, r) => n + r.count, 0);
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  const coldStarts = rows.reduce((n, r) => n + r.coldStarts, 0);
  return {
    count,
    errors,
    errorRate: count ? errors / count : 0,
    p50: percentile(durations, 50),
    p95: percentile(durations, 95),
    p99: percentile(durations, 99),
    coldStarts,
    coldShare: count ? coldStarts / count : 0,
  };
}
