/**
 * Items on their way to the store in batches: one write (one transaction) per batch, when
 * `batchSize` items wait or `flushMs` after the first, whichever comes first, and on `flush()`.
 * Batches are written in order, one at a time: a batch starts once the one before it has ended.
 */
export class WriteBatch<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The write in progress, settled either way; undefined when none is. */
  private writing: Promise<void> | undefined;
  private readonly write: (batch: T[]) => void | Promise<void>;
  private readonly flushMs: number;
  private readonly batchSize: number;

  constructor(write: (batch: T[]) => void | Promise<void>, flushMs: number, batchSize: number) {
    this.write = write;
    this.flushMs = flushMs;
    this.batchSize = batchSize;
  }

  /** Queues one item. */
  add(item: T): void {
    this.pending.push(item);
    // A failed write rejects here unhandled, as the synchronous write it replaced threw from its timer.
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
