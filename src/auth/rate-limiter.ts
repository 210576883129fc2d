/**
 * Token buckets: each name (an API key id, a function) may spend `burst` requests at once and earns
 * `rps` back per second. A refusal says how long until the next token, for `Retry-After`.
 */

/** A bucket's refill rate and size. */
export interface Rate {
  rps: number;
  burst: number;
}

/** The answer of `take`. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
  rate: Rate;
}

/** Buckets beyond this many are swept of full ones, so a churn of names cannot grow the map unbounded. */
const SWEEP_ABOVE = 10_000;

/** A set of token buckets by name. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** Spends one token of `name` at `rate`; a changed rate starts a fresh, full bucket. */
  take(name: string, rate: Rate): Take {
    const now = this.now();
    let b = this.buckets.get(name);
    if (!b || b.rate.rps !== rate.rps || b.rate.burst !== rate.burst) {
      if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
      b = { tokens: rate.burst, at: now, rate };
      this.buckets.set(name, b);
    }
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.rps);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / rate.rps) * 1000) };
  }

  /** Forgets `name` (a revoked key, a deleted function). */
  forget(name: string): void {
    this.buckets.delete(name);
  }

  /** Drops buckets that have refilled: they are indistinguishable from new ones. */
  private sweep(now: number): void {
    for (const [name, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * b.rate.rps >= b.rate.burst) this.buckets.delete(name);
    }
  }
}

/** `Retry-After` in whole seconds (at least 1), as RFC 9110 §10.2.3 wants. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
