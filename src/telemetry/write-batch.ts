/**
 * Items on their way to the store in batches: one write (one transaction) per batch, when
 * `batchSize` items wait or `flushMs` after the first, whichever comes first, and on `flush()`.
 * Batches are written in order, one at a time: a batch starts once the one before it has ended.
 *
 * With `retry` options a failed write is not lost: its items go back to the front of the queue
 * and are written again after `retryMs` (the store was down), at most `maxPending` items being
 * kept (the oldest dropped beyond, and counted); flush() then resolves rather than rejects.
 */
export interface WriteBatchRetry {
  /** Items kept while writes fail; the oldest beyond are dropped. */
  maxPending: number;
  /** Wait before writing again after a failure. */
  retryMs: number;
  /** A write failed (`dropped`: items given up so far to stay within maxPending). */
  onError: (err: unknown, pending: number, dropped: number) => void;
  /** A write succeeded after failures. */
  onRecovered?: (written: number) => void;
  /** Tries of one batch before it is given up (a batch the store refuses for what it holds, not for being down). */
  maxTries?: number;
}

/** Items written to the store in batches. */
export class WriteBatch<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The write in progress, settled either way; undefined when none is. */
  private writing: Promise<void> | undefined;
  private readonly write: (batch: T[]) => void | Promise<void>;
  private readonly flushMs: number;
  private readonly batchSize: number;

  private readonly retry: WriteBatchRetry | undefined;
  private failing = false;
  private dropped = 0;
  private tries = 0;

  constructor(
    write: (batch: T[]) => void | Promise<void>,
    flushMs: number,
    batchSize: number,
    retry?: WriteBatchRetry,
  ) {
    this.write = retry ? (batch) => this.writeOrKeep(write, batch) : write;
    this.flushMs = flushMs;
    this.batchSize = batchSize;
    this.retry = retry;
  }

  /** Items waiting to be written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes `batch`; on failure puts it back (bounded) and tries again later. Never rejects. */
  private async writeOrKeep(write: (batch: T[]) => void | Promise<void>, batch: T[]): Promise<void> {
    const retry = this.retry as WriteBatchRetry;
    try {
      await write(batch);
      this.tries = 0;
      if (this.failing) {
        this.failing = false;
        retry.onRecovered?.(batch.length);
      }
    } catch (err) {
      this.failing = true;
      if (++this.tries >= (retry.maxTries ?? 120)) {
        // Two minutes of failures of this very batch: give it up rather than hold it forever.
        this.tries = 0;
        this.dropped += batch.length;
        retry.onError(err, this.pending.length, this.dropped);
        this.timer ??= setTimeout(() => void this.flush(), retry.retryMs);
        return;
      }
      this.pending = batch.concat(this.pending);
      const over = this.pending.length - retry.maxPending;
      if (over > 0) {
        this.pending.splice(0, over);
        this.dropped += over;
      }
      retry.onError(err, this.pending.length, this.dropped);
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.flush(), retry.retryMs);
      this.timer.unref();
    }
  }

  /** Queues one item. */
  add(item: T): void {
    this.pending.push(item);
    // A failed write rejects here unhandled, as the synchronous write it replaced threw from its timer.
    if (this.failing) return; // the retry timer writes them
    if (this.pending.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes every queued item now; resolves once they (and every batch before them) are written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.length) return this.writing ?? Promise.resolve();
    const batch = this.pending;
    this.pending = [];
    // With no write in progress, the write starts now (a synchronous store has written when this returns).
    const run = this.writing
      ? this.writing.then(() => this.write(batch))
      : Promise.resolve(this.write(batch));
    const settled = run.then(
      () => {},
      () => {},
    );
    this.writing = settled;
    void settled.then(() => {
      if (this.writing === settled) this.writing = undefined;
    });
    return run;
  }
}
