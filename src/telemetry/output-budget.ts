/**
 * How much log output one invocation may write. A function that floods stdout must not fill the
 * store or starve its neighbours' log writes: past the budget its lines are dropped, with one
 * marker line saying so.
 */

/** The verdict on one line. */
export type OutputVerdict = 'keep' | 'drop' | 'limit_reached';

/** Per-invocation line and byte budgets. */
export class OutputBudget {
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly used: Map<string, { lines: number; bytes: number; dropped: number }> = new Map();

  constructor(maxLines: number, maxBytes: number) {
    this.maxLines = maxLines;
    this.maxBytes = maxBytes;
  }

  /** Counts a line of `bytes` against `key` (an invocation, or an instance for untagged output). */
  admit(key: string, bytes: number): OutputVerdict {
    let u = this.used.get(key);
    if (!u) this.used.set(key, (u = { lines: 0, bytes: 0, dropped: 0 }));
    if (u.dropped > 0) {
      u.dropped++;
      return 'drop';
    }
    if (u.lines + 1 > this.maxLines || u.bytes + bytes > this.maxBytes) {
      u.dropped = 1;
      return 'limit_reached';
    }
    u.lines++;
    u.bytes += bytes;
    return 'keep';
  }

  /** Forgets `key`; returns how many of its lines were dropped. */
  forget(key: string): number {
    const dropped = this.used.get(key)?.dropped ?? 0;
    this.used.delete(key);
    return dropped;
  }

  /** The marker line written when a budget runs out. */
  marker(): string {
    return `[kumo] log_limit_exceeded: more than ${this.maxLines} lines or ${this.maxBytes} bytes of output in this invocation; further lines are dropped`;
  }
}
