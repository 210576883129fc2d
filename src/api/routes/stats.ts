/** GET /stats — count, error rate, latency percentiles and cold-start share per function, from the history. */
import { queryOf, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { InvocationStore, StatsSample } from '../../store/index.ts';
import { parseSince } from './logs.ts';

/** What the stats route needs. */
export interface StatsDeps {
  invocations: InvocationStore;
  flushHistory: () => Promise<void>;
  now: () => number;
}

/** Invocations looked at, at most (the newest ones). */
const MAX_SAMPLES = 200_000;
const DAY_MS = 86_400_000;

/** Figures of one function. */
export interface FunctionStats {
  function: string;
  count: number;
  errors: number;
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
  coldStarts: number;
  coldShare: number;
}

/** GET /stats. */
export function statsRoute(d: StatsDeps): Route {
  return {
    method: 'GET',
    path: '/stats',
    scope: 'read',
    tag: 'invocations',
    summary: 'Count, error rate, latency percentiles and cold starts per function',
    query: queryOf({
      function: 'only this function',
      since: 'the window start: a duration before now (default 24h) or epoch ms',
    }),
    handler: statsHandler(d),
  };
}

function statsHandler(d: StatsDeps) {
  return async ({ res, query }: RouteContext) => {
    await d.flushHistory();
    const now = d.now();
    const since = parseSince(query.get('since'), now) ?? now - DAY_MS;
    const fn = query.get('function') ?? undefined;
    const samples = await d.invocations.statsSamples(since, fn, MAX_SAMPLES);
    const byFunction = new Map<string, StatsSample[]>();
    for (const s of samples) {
      let list = byFunction.get(s.function);
      if (!list) byFunction.set(s.function, (list = []));
      list.push(s);
    }
    const functions = [...byFunction]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, list]) => summarize(name, list));
    sendJson(res, 200, {
      since,
      until: now,
      sampled: samples.length,
      complete: samples.length < MAX_SAMPLES,
      functions,
    });
  };
}

/** The figures of one function's samples. */
export function summarize(name: string, samples: readonly StatsSample[]): FunctionStats {
  const durations = samples.map((s) => s.durationMs).sort((a, b) => a - b);
  const errors = samples.filter((s) => s.status !== 'succeeded').length;
  const cold = samples.filter((s) => s.cold).length;
  const n = samples.length;
  return {
    function: name,
    count: n,
    errors,
    errorRate: n ? errors / n : 0,
    p50: percentile(durations, 50),
    p95: percentile(durations, 95),
    p99: percentile(durations, 99),
    coldStarts: cold,
    coldShare: n ? cold / n : 0,
  };
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
