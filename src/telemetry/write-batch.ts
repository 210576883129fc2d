/**
 * Items on their way to the store in batches: one write (one transaction) per batch, when
 * `batchSize` items wait or `flushMs` after the first, whichever comes first, and on `flush()`.
 */
export class WriteBatch<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly write: (batch: T[]) => void;
  private readonly flushMs: number;
  private readonly batchSize: number;

  constructor(write: (batch: T[]) => void, flushMs: number, batchSize: number) {
    this.write = write;
    this.flushMs = flushMs;
    this.batchSize = batchSize;
  }

  /** Queues one item. */
  add(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Writes every queued item now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.write(batch);
  }
}
