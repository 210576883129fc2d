/**
 * Manifest fields of access control: who may invoke the function and how often. Kept beside
 * `access.ts` so that everything about access reads in one place.
 */
import { z } from 'zod';

/** Who may invoke a function. */
export const ACCESS_LEVELS = ['public', 'private'] as const;
/** Who may invoke a function. */
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** Bounds of a function's rate limit (invocations per second, and the burst above it). */
export const RATE_LIMITS = { rps: { min: 0.01, max: 100_000 }, burst: { min: 1, max: 1_000_000 } } as const;

/** `access: public | private`, public by default so that a deployed function answers like before. */
export const accessField = z
  .enum(ACCESS_LEVELS, { error: `must be one of: ${ACCESS_LEVELS.join(', ')}` })
  .default('public');

const rps = z
  .number({ error: (i) => `must be a number of invocations per second (got ${JSON.stringify(i.input)})` })
  .min(RATE_LIMITS.rps.min, {
    error: `must be between ${RATE_LIMITS.rps.min} and ${RATE_LIMITS.rps.max} per second`,
  })
  .max(RATE_LIMITS.rps.max, {
    error: `must be between ${RATE_LIMITS.rps.min} and ${RATE_LIMITS.rps.max} per second`,
  });

const burst = z
  .number({ error: (i) => `must be a whole number of invocations (got ${JSON.stringify(i.input)})` })
  .int({ error: 'must be a whole number of invocations' })
  .min(RATE_LIMITS.burst.min, {
    error: `must be between ${RATE_LIMITS.burst.min} and ${RATE_LIMITS.burst.max}`,
  })
  .max(RATE_LIMITS.burst.max, {
    error: `must be between ${RATE_LIMITS.burst.min} and ${RATE_LIMITS.burst.max}`,
  });

/**
 * `rateLimit: 50` (per second, burst 50) or `rateLimit: { rps: 50, burst: 200 }`. The burst is how
 * many may arrive at once after a quiet spell; it defaults to one second's worth (at least 1).
 */
export const rateLimitField = z
  .union([rps, z.strictObject({ rps, burst: burst.optional() })], {
    error: 'must be invocations per second (rateLimit: 50) or { rps: 50, burst: 100 }',
  })
  .transform((value) => {
    const perSecond = typeof value === 'number' ? value : value.rps;
    const given = typeof value === 'number' ? undefined : value.burst;
    return { rps: perSecond, burst: given ?? Math.max(1, Math.ceil(perSecond)) };
  })
  .optional();

/** A function's rate limit as resolved from the manifest. */
export type RateLimit = { rps: number; burst: number };
