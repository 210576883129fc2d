/**
 * How many instances each function had over time, for the console's instances chart. The pool
 * knows only the present, and nothing else records it, so every pool event appends a change point
 * (time, total) when the function's count changed. Kept in memory: a restart starts it afresh
 * (instances do not survive a restart either). Bounded per function by age and by count.
 */

/** One change of a function's instance count. */
interface Point {
  time: number;
  total: number;
}

/** Options of the timeline. */
export interface InstanceTimelineOptions {
  /** Change points older than this are dropped (ms). */
  maxAgeMs?: number;
  /** Change points kept per function, at most. */
  maxPoints?: number;
}

/** The instance counts of every function over time. */
export class InstanceTimeline {
  private readonly points = new Map<string, Point[]>();
  private readonly maxAgeMs: number;
  private readonly maxPoints: number;

  constructor(options: InstanceTimelineOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 7 * 86_400_000;
    this.maxPoints = options.maxPoints ?? 20_000;
  }

  /** Records that `fn` has `total` instances at `time` (nothing when the count did not change). */
  record(fn: string, total: number, time: number): void {
    let list = this.points.get(fn);
    if (!list) this.points.set(fn, (list = []));
    if (list.at(-1)?.total === total) return;
    list.push({ time, total });
    const tooOld = time - this.maxAgeMs;
    let drop = Math.max(0, list.length - this.maxPoints);
    // Keep one point before the cut: it says how many there were when the window starts.
    while (drop + 1 < list.length && (list[drop + 1] as Point).time < tooOld) drop++;
    if (drop) list.splice(0, drop);
  }

  /** Forgets a deleted function. */
  forget(fn: string): void {
    this.points.delete(fn);
  }

  /**
   * The highest instance count of `fn` in each of `count` buckets of `step` ms from `start`
   * (0 before anything was recorded).
   */
  peaks(fn: string, start: number, step: number, count: number): number[] {
    const out = new Array<number>(count).fill(0);
    const list = this.points.get(fn) ?? [];
    let current = 0;
    let i = 0;
    for (; i < list.length && (list[i] as Point).time < start; i++) current = (list[i] as Point).total;
    for (let b = 0; b < count; b++) {
      const end = start + (b + 1) * step;
      let peak = current;
      for (; i < list.length && (list[i] as Point).time < end; i++) {
        current = (list[i] as Point).total;
        peak = Math.max(peak, current);
      }
      out[b] = peak;
    }
    return out;
  }
}
