/**
 * A server log that an attacker cannot flood: lines are grouped by a key (the kind of event, often
 * with the function or destination), at most `burst` lines of a key are written per `intervalMs`,
 * and the next line written after a quiet spell says how many were left out (`suppressed`).
 */
import type { Fields, Level, ServerLog } from './logger.ts';

/** Options of a throttle. */
export interface LogThrottleOptions {
  /** Lines of one key per interval (default 5). */
  burst?: number;
  /** The interval (default one minute). */
  intervalMs?: number;
  /** Keys remembered at most; past it the interval's counts start over (default 1000). */
  maxKeys?: number;
  now?: () => number;
}

/** Rate-limited lines on top of a ServerLog. */
export class LogThrottle {
  private readonly log: ServerLog;
  private readonly burst: number;
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, { since: number; written: number; suppressed: number }>();

  constructor(log: ServerLog, options: LogThrottleOptions = {}) {
    this.log = log;
    this.burst = options.burst ?? 5;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Writes the line unless `key` already had `burst` lines this interval; true when written. */
  write(level: Level, key: string, message: string, fields: Fields = {}): boolean {
    const now = this.now();
    let entry = this.keys.get(key);
    if (!entry || now - entry.since >= this.intervalMs) {
      if (!entry && this.keys.size >= this.maxKeys) this.keys.clear();
      entry = { since: now, written: 0, suppressed: entry?.suppressed ?? 0 };
      this.keys.set(key, entry);
    }
    if (entry.written >= this.burst) {
      entry.suppressed++;
      return false;
    }
    entry.written++;
    const suppressed = entry.suppressed;
    entry.suppressed = 0;
    this.log[level](message, suppressed ? { ...fields, suppressed } : fields);
    return true;
  }

  /** A warning line, throttled by `key`. */
  warn(key: string, message: string, fields?: Fields): boolean {
    return this.write('warn', key, message, fields);
  }
}
