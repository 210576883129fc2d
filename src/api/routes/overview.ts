/**
 * GET /overview — every function at a glance in one call: runtime, active version, instances,
 * and over a window (default 24h) its invocations, error rate, p95, cold-start share and a
 * per-bucket count for a sparkline. The console's functions view and `kumo list`-style tools
 * read it instead of one request per function.
 */
import { sendJson } from '../../http/index.ts';
import type { InstancePool } from '../../pool/index.ts';
import type { ActiveVersions, InvocationStore, StatsSample, Store } from '../../store/index.ts';
import type { RouteContext } from '../router.ts';
import { bucketWindow } from './stats-buckets.ts';
import { summarize } from './stats.ts';

/** What the overview needs. */
export interface OverviewDeps {
  store: Store;
  versions: ActiveVersions;
  pool: InstancePool;
  invocations: InvocationStore;
  flushHistory: () => void;
  now: () => number;
}

/** Invocations looked at, at most (the newest ones). */
const MAX_SAMPLES = 500_000;

/** The overview route handler. */
export function overviewRoute(d: OverviewDeps) {
  return ({ res, query }: RouteContext) => {
    d.flushHistory();
    const w = bucketWindow(query.get('since'), query.get('step'), d.now());
    const samples = d.invocations.statsSamples(w.start, undefined, MAX_SAMPLES);
    const byFunction = new Map<string, StatsSample[]>();
    for (const s of samples) {
      let list = byFunction.get(s.function);
      if (!list) byFunction.set(s.function, (list = []));
      list.push(s);
    }
    const functions = d.store.listFunctions().map((fn) => {
      const list = byFunction.get(fn.name) ?? [];
      const { function: _name, ...stats } = summarize(fn.name, list);
      const spark = new Array<number>(w.count).fill(0);
      for (const s of list) {
        const i = Math.floor((s.createdAt - w.start) / w.step);
        if (i >= 0 && i < w.count) spark[i] = (spark[i] as number) + 1;
      }
      const spec = d.versions.get(fn.name)?.spec;
      const pool = d.pool.stats(fn.name);
      return {
        name: fn.name,
        runtime: spec?.runtime ?? null,
        access: spec?.access ?? null,
        activeVersion: fn.activeVersion,
        updatedAt: fn.updatedAt,
        instances: { total: pool.total, busy: pool.busy },
        ...stats,
        spark,
      };
    });
    sendJson(res, 200, {
      since: w.start,
      until: w.until,
      step: w.step,
      complete: samples.length < MAX_SAMPLES,
      functions,
    });
  };
}
