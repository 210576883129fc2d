/**
 * Function log lines on their way to the store: batched writes (one transaction per flush),
 * a retention bound per function, and live subscribers for `kumo logs --follow`.
 */
import type { LogLine } from '../core/index.ts';
import type { FunctionStore } from '../store/index.ts';
import { WriteBatch } from './write-batch.ts';

/** Options of the sink. */
export interface LogSinkOptions {
  /** Flush at least this often (ms). */
  flushMs?: number;
  /** Flush when this many lines are waiting. */
  batchSize?: number;
  /** Keep at most this many lines per function. */
  maxLinesPerFunction?: number;
  /** Prune every this many ms. */
  pruneEveryMs?: number;
  /**
   * Whether lines of function `fn` are still wanted (default: always). A deleted function's
   * instances can print while they stop, after its logs were deleted: those lines are dropped.
   */
  keeps?: (fn: string) => boolean;
  /** Lines held while the store cannot take them (default 50,000; the oldest go beyond). */
  maxHeldLines?: number;
  /** Writing or pruning failed (the lines are held and written again). */
  onError?: (err: unknown, held: number, dropped: number) => void;
}

/** Collects, stores and fans out function log lines. */
export class LogSink {
  private readonly store: FunctionStore;
  private readonly batch: WriteBatch<LogLine>;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly listeners: Map<string, Set<(line: LogLine) => void>> = new Map();
  readonly maxLinesPerFunction: number;
  private readonly keeps: (fn: string) => boolean;
  private closed = false;

  constructor(store: FunctionStore, options: LogSinkOptions = {}) {
    this.store = store;
    // Lines that the store cannot take are held (bounded) and written when it is back.
    this.batch = new WriteBatch(
      (lines) => this.keep(lines),
      options.flushMs ?? 50,
      options.batchSize ?? 500,
      {
        maxPending: options.maxHeldLines ?? 50_000,
        retryMs: 1000,
        onError: (err, pending, dropped) => options.onError?.(err, pending, dropped),
      },
    );
    this.maxLinesPerFunction = options.maxLinesPerFunction ?? 10_000;
    this.keeps = options.keeps ?? (() => true);
    this.pruneTimer = setInterval(
      () => void this.prune().catch((err: unknown) => options.onError?.(err, this.batch.pendingCount, 0)),
      options.pruneEveryMs ?? 30_000,
    );
    this.pruneTimer.unref();
  }

  /** Queues one line. */
  write(line: LogLine): void {
    // An instance's pipes can still deliver a line after shutdown closed the sink (and the store).
    if (this.closed || !this.keeps(line.function)) return;
    this.batch.add(line);
  }

  /** Writes every queued line to the store now and tells subscribers. */
  flush(): Promise<void> {
    return this.batch.flush();
  }

  /** Stores one batch and tells the subscribers of each line's function. */
  private async keep(queued: LogLine[]): Promise<void> {
    // Checked again: the function may have been deleted while its lines waited.
    const lines = queued.filter((l) => this.keeps(l.function));
    await this.store.appendLogs(lines);
    for (const line of lines) for (const listener of this.listeners.get(line.function) ?? []) listener(line);
  }

  /** Calls `listener` with every line of `fn` stored from now on; returns the unsubscribe function. */
  subscribe(fn: string, listener: (line: LogLine) => void): () => void {
    let set = this.listeners.get(fn);
    if (!set) this.listeners.set(fn, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size) this.listeners.delete(fn);
    };
  }

  /** Applies the retention bound. */
  async prune(): Promise<number> {
    await this.flush();
    return this.store.pruneLogs(this.maxLinesPerFunction);
  }

  /** Flushes and stops the timers. */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.closed = true;
    await this.flush();
  }
}
