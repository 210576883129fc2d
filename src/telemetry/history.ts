/**
 * The invocation history of sync requests on its way to the store: records are queued in memory
 * and written in one transaction per batch, so the request path never waits for the disk. Async
 * and cron invocations are recorded by the queue itself, since their record is their queue entry.
 * Retention (by count per function and by age) runs on a timer.
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
  /** Apply retention this often (ms). */
  pruneEveryMs?: number;
  now?: () => number;
  /** Told when a write fails (the records of that batch are lost, the server goes on). */
  onError?: (err: unknown) => void;
}

/** Batches history records into the store. */
export class HistoryRecorder {
  private readonly store: InvocationStore;
  private readonly o: Required<HistoryOptions>;
  private readonly batch: WriteBatch<InvocationRecord>;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(store: InvocationStore, options: HistoryOptions) {
    this.store = store;
    this.o = {
      flushMs: 100,
      batchSize: 1000,
      pruneEveryMs: 60_000,
      now: Date.now,
      onError: () => {},
      ...options,
    };
    this.batch = new WriteBatch(
      (records) => {
        try {
          this.store.insertFinished(records);
        } catch (err) {
          this.o.onError(err);
        }
      },
      this.o.flushMs,
      this.o.batchSize,
    );
    this.pruneTimer = setInterval(() => this.prune(), this.o.pruneEveryMs);
    this.pruneTimer.unref();
  }

  /** Queues one finished invocation. */
  record(record: InvocationRecord): void {
    this.batch.add(record);
  }

  /** Writes every queued record now (reads call this first, so a just-finished request is visible). */
  flush(): void {
    this.batch.flush();
  }

  /** Applies retention; returns how many invocations were removed. */
  prune(): number {
    this.flush();
    try {
      return this.store.prune(this.o.maxPerFunction, this.o.now() - this.o.maxAgeMs);
    } catch (err) {
      this.o.onError(err);
      return 0;
    }
  }

  /** Flushes and stops the timers. */
  close(): void {
    clearInterval(this.pruneTimer);
    this.flush();
  }
}
