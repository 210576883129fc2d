/**
 * Server log lines that a stranger or a function can trigger at will (a refused body, a full
 * queue, a cut slow client) go through a throttle: the first line of a kind is written, repeats
 * within the interval are only counted, and the next line written says how many were left out.
 * So an attacker cannot flood the log, and the operator still sees that it happens and how often.
 */
import type { Fields, ServerLog } from './logger.ts';

/** Most kinds tracked at once: past it the oldest is forgotten (its count is lost, not its next line). */
const MAX_KINDS = 1000;

/** A ServerLog's warn, at most once per interval per kind. */
export class LogThrottle {
  private readonly log: ServerLog;
  private readonly everyMs: number;
  private readonly now: () => number;
  private readonly kinds = new Map<string, { at: number; left: number }>();

  constructor(log: ServerLog, everyMs = 10_000, now: () => number = Date.now) {
    this.log = log;
    this.everyMs = everyMs;
    this.now = now;
  }

  /** Writes `message` as a warning unless a line of `kind` was written within the interval. */
  warn(kind: string, message: string, fields: Fields = {}): void {
    const now = this.now();
    const seen = this.kinds.get(kind);
    if (seen && now - seen.at < this.everyMs) {
      seen.left++;
      return;
    }
    if (!seen && this.kinds.size >= MAX_KINDS) {
      const oldest = this.kinds.keys().next();
      if (!oldest.done) this.kinds.delete(oldest.value);
    }
    this.kinds.set(kind, { at: now, left: 0 });
    this.log.warn(message, seen?.left ? { ...fields, repeated: seen.left } : fields);
  }
}
