/**
 * The invocation history of sync requests on its way to the store: records are queued in memory
 * and written in one transaction per batch, so the request path never waits for the disk. Async
 * and cron invocations are recorded by the queue itself, since their record is their queue entry.
 * Retention (by count per function, by age, and by the bytes of all bodies) runs on a timer and,
 * after a burst of writes, sooner (written()).
 */
import type { InvocationRecord } from '../core/index.ts';
import type { InvocationStore } from '../store/index.ts';
import { WriteBatch } from './write-batch.ts';

/** Options of the recorder. */
export interface HistoryOptions {
  /** Flush at least this often (ms). */
  flushMs?: number;
  /** Flush when this many records are waiting. */
  batchSize?: number;
  /** Keep at most this many finished invocations per function. */
  maxPerFunction: number;
  /** Drop finished invocations older than this (ms). */
  maxAgeMs: number;
  /** Drop the oldest finished invocations while their bodies take more than this (bytes). */
  maxBodyBytes?: number;
  /** Apply retention this often (ms). */
  pruneEveryMs?: number;
  /** Apply it sooner after writes, but not more often than this (ms). */
  minPruneGapMs?: number;
  now?: () => number;
  /** Told when a write fails (the records of that batch are lost, the server goes on). */
  onError?: (err: unknown) => void;
}

/** Finished sync invocations held in memory while the store cannot take them (the oldest go beyond). */
const HELD_WHILE_FAILING = 10_000;
/** Wait between writes while the store fails. */
const RETRY_MS = 1000;

/** Finished invocations dropped per step of a byte-bound prune (about a millisecond each). */
const OLDEST_STEP = 32;

/** Every this many timer rounds, the bytes of stored bodies are read from the store again. */
const RECOUNT_EVERY = 10;

/** Batches history records into the store. */
export class HistoryRecorder {
  private readonly store: InvocationStore;
  private readonly o: Required<HistoryOptions>;
  private readonly batch: WriteBatch<InvocationRecord>;
  private readonly pruneTimer: NodeJS.Timeout;
  /** Rows and body bytes written since the last prune (sync records and async results alike). */
  private rowsSince = 0;
  private bytesSince = 0;
  /** Functions written since the last prune: a prune between the timer's rounds looks at these only. */
  private readonly touched: Set<string> = new Set();
  private dropping = false;
  private closed = false;
  /** Bytes of the bodies of finished invocations: read at start, then kept up to date by writes and prunes. */
  private bodyBytes = 0;
  private lastPrune = 0;
  private soon: NodeJS.Timeout | undefined;

  constructor(store: InvocationStore, options: HistoryOptions) {
    this.store = store;
    this.o = {
      flushMs: 100,
      batchSize: 1000,
      pruneEveryMs: 60_000,
      minPruneGapMs: 1000,
      maxBodyBytes: Number.MAX_SAFE_INTEGER,
      now: Date.now,
      onError: () => {},
      ...options,
    };
    this.batch = new WriteBatch(
      // A failed write is kept and written again (bounded): a store outage delays the history, not loses it.
      (records) => this.store.insertFinished(records),
      this.o.flushMs,
      this.o.batchSize,
      {
        maxPending: HELD_WHILE_FAILING,
        retryMs: RETRY_MS,
        onError: (err, pending, dropped) =>
          this.o.onError(new Error(`${String(err)} (${pending} records held, ${dropped} dropped)`)),
      },
    );
    void this.recount();
    let rounds = 0;
    this.pruneTimer = setInterval(() => {
      // The running count drifts a little (retried runs, truncated bodies): read it again now and then.
      if (++rounds % RECOUNT_EVERY === 0) void this.recount();
      void this.prune();
    }, this.o.pruneEveryMs);
    this.pruneTimer.unref();
  }

  /** Queues one finished invocation. */
  record(record: InvocationRecord): void {
    this.batch.add(record);
  }

  /**
   * Counts an invocation that was written (by this recorder or by the queue) with `bytes` of
   * bodies. Past a tenth of a bound since the last prune, retention runs again within
   * `minPruneGapMs`, so a burst cannot grow the history far past its bounds between the timer's
   * rounds.
   */
  written(fn: string, bytes: number): void {
    this.rowsSince++;
    this.bytesSince += bytes;
    this.bodyBytes += bytes;
    this.touched.add(fn);
    const rows = Math.max(1, Math.floor(this.o.maxPerFunction / 10));
    if (this.rowsSince < rows && this.bytesSince < this.o.maxBodyBytes / 10) return;
    if (this.soon) return;
    const wait = Math.max(0, this.lastPrune + this.o.minPruneGapMs - this.o.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.prune([...this.touched]);
    }, wait);
    this.soon.unref();
  }

  /** Writes every queued record now (reads await this first, so a just-finished request is visible). */
  flush(): Promise<void> {
    return this.batch.flush();
  }

  /**
   * Applies retention (the row bound to `functions` only, when given; the age and byte bounds to
   * all); returns how many invocations were removed.
   */
  async prune(functions?: readonly string[]): Promise<number> {
    this.rowsSince = 0;
    this.bytesSince = 0;
    this.touched.clear();
    this.lastPrune = this.o.now();
    try {
      await this.flush();
      const pruned = await this.store.prune(this.o.maxPerFunction, this.o.now() - this.o.maxAgeMs, functions);
      this.bodyBytes = Math.max(0, this.bodyBytes - pruned.bytes);
      if (this.bodyBytes > this.o.maxBodyBytes) void this.dropOldest();
      return pruned.removed;
    } catch (err) {
      this.o.onError(err);
      return 0;
    }
  }

  /**
   * Drops the oldest finished invocations, a few at a time with the event loop free between
   * steps, until their bodies are back under 95% of the bound (so the next burst does not start
   * it again at once).
   */
  private async dropOldest(): Promise<void> {
    if (this.dropping) return;
    this.dropping = true;
    try {
      while (!this.closed) {
        const oldest = await this.store.pruneOldest(OLDEST_STEP);
        this.bodyBytes = oldest.removed ? Math.max(0, this.bodyBytes - oldest.bytes) : 0;
        if (!oldest.removed || this.bodyBytes <= 0.95 * this.o.maxBodyBytes) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.o.onError(err);
    } finally {
      this.dropping = false;
    }
  }

  private async recount(): Promise<void> {
    try {
      this.bodyBytes = await this.store.bodyBytes();
    } catch (err) {
      this.o.onError(err);
    }
  }

  /** Flushes and stops the timers. */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruneTimer);
    if (this.soon) clearTimeout(this.soon);
    return this.flush();
  }
}
