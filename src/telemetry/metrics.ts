/**
 * Prometheus metrics, written by hand in the text exposition format (version 0.0.4): a few
 * counters and histograms updated on the invocation path (a map lookup and a bucket search, no
 * allocation beyond the label key), and gauges read from the pool and the queue at scrape time.
 */

/** Seconds; from a 1 ms hello to a 15-minute function. */
const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];
/** Seconds between an async invocation becoming ready and starting. */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/** One finished run, as the metrics see it. */
export interface InvocationSample {
  function: string;
  version: number;
  trigger: string;
  outcome: string;
  durationMs: number;
  cold: boolean;
}

/** Point-in-time values read at scrape time. */
export interface GaugeSnapshot {
  instances: { function: string; total: number; busy: number; starting: number; waiting: number }[];
  queue: { function: string; queued: number; running: number }[];
  /** Age of the oldest ready queued invocation, in ms (0 when none). */
  oldestReadyAgeMs: number;
}

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= (this.bounds[i] as number)) {
        this.counts[i] = (this.counts[i] ?? 0) + 1;
        return;
      }
    }
  }

  render(name: string, labels: string, out: string[]): void {
    let cumulative = 0;
    const sep = labels ? ',' : '';
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i] ?? 0;
      out.push(`${name}_bucket{${labels}${sep}le="${bound}"} ${cumulative}`);
    });
    out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}`);
    out.push(`${name}_sum${labels ? `{${labels}}` : ''} ${round(this.sum)}`);
    out.push(`${name}_count${labels ? `{${labels}}` : ''} ${this.count}`);
  }
}

/** The metrics of one server. */
export class Metrics {
  private readonly invocations: Map<string, number> = new Map();
  private readonly durations: Map<string, Histogram> = new Map();
  private readonly coldStarts: Map<string, number> = new Map();
  private readonly callbacks: Map<string, number> = new Map();
  private readonly ticks: Map<string, number> = new Map();
  private readonly asyncLag = new Histogram(LAG_BUCKETS);

  /** Counts one finished run. */
  observeInvocation(s: InvocationSample): void {
    const fn = escape(s.function);
    const key = `function="${fn}",version="${s.version}",trigger="${s.trigger}",outcome="${s.outcome}"`;
    this.invocations.set(key, (this.invocations.get(key) ?? 0) + 1);
    const hkey = `function="${fn}",trigger="${s.trigger}"`;
    let h = this.durations.get(hkey);
    if (!h) this.durations.set(hkey, (h = new Histogram(DURATION_BUCKETS)));
    h.observe(s.durationMs / 1000);
    if (s.cold) {
      const ckey = `function="${fn}",version="${s.version}"`;
      this.coldStarts.set(ckey, (this.coldStarts.get(ckey) ?? 0) + 1);
    }
  }

  /** How long an async run waited between being ready and starting. */
  observeAsyncLag(ms: number): void {
    this.asyncLag.observe(Math.max(0, ms) / 1000);
  }

  /** One callback delivery attempt. */
  observeCallback(result: 'delivered' | 'retry' | 'failed'): void {
    this.callbacks.set(result, (this.callbacks.get(result) ?? 0) + 1);
  }

  /** One cron tick and what became of it. */
  observeTick(fn: string, result: 'enqueued' | 'skipped'): void {
    const key = `function="${escape(fn)}",result="${result}"`;
    this.ticks.set(key, (this.ticks.get(key) ?? 0) + 1);
  }

  /** The whole exposition text. */
  render(g: GaugeSnapshot): string {
    const out: string[] = [];
    const counter = (name: string, help: string, values: Map<string, number>, label?: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [key, v] of values) out.push(`${name}{${label ? `${label}="${key}"` : key}} ${v}`);
    };
    counter(
      'kumo_invocations_total',
      'Finished invocation runs by function, version, trigger and outcome.',
      this.invocations,
    );
    out.push(
      '# HELP kumo_invocation_duration_seconds Run duration (queueing for an instance included).',
      '# TYPE kumo_invocation_duration_seconds histogram',
    );
    for (const [key, h] of this.durations) h.render('kumo_invocation_duration_seconds', key, out);
    counter('kumo_cold_starts_total', 'Runs that waited for a new instance to start.', this.coldStarts);
    const gauge = (name: string, help: string, rows: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of rows) out.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    };
    gauge(
      'kumo_instances',
      'Instances by state: warm (running, idle or busy), busy (serving), starting.',
      g.instances.flatMap((i) => {
        const fn = escape(i.function);
        return [
          [`function="${fn}",state="warm"`, i.total - i.starting],
          [`function="${fn}",state="busy"`, i.busy],
          [`function="${fn}",state="starting"`, i.starting],
        ] as [string, number][];
      }),
    );
    gauge(
      'kumo_pool_waiting',
      'Requests waiting for an instance slot.',
      g.instances.map((i) => [`function="${escape(i.function)}"`, i.waiting]),
    );
    gauge(
      'kumo_queue_depth',
      'Async and cron invocations in the durable queue, by status.',
      g.queue.flatMap((q) => {
        const fn = escape(q.function);
        return [
          [`function="${fn}",status="queued"`, q.queued],
          [`function="${fn}",status="running"`, q.running],
        ] as [string, number][];
      }),
    );
    gauge(
      'kumo_async_lag_seconds',
      'Age of the oldest queued invocation that is ready to run (0 when none).',
      [['', round(g.oldestReadyAgeMs / 1000)]],
    );
    out.push(
      '# HELP kumo_async_start_lag_seconds Time from ready to started for async runs.',
      '# TYPE kumo_async_start_lag_seconds histogram',
    );
    this.asyncLag.render('kumo_async_start_lag_seconds', '', out);
    counter('kumo_callbacks_total', 'Callback delivery attempts by result.', this.callbacks, 'result');
    counter(
      'kumo_schedule_ticks_total',
      'Cron ticks by function and result (enqueued, or skipped by the overlap policy).',
      this.ticks,
    );
    return `${out.join('\n')}\n`;
  }
}

/** Label values escape backslash, quote and newline. */
function escape(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
