/**
 * Limits of a build: memory, CPU, wall time and disk. `kumo up` sets the defaults, which are also
 * the ceilings; a manifest's `build:` may ask for less, or for more up to those ceilings.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { KumoError } from './errors.ts';

/** The limits one build runs under. */
export interface BuildLimits {
  memoryMb: number;
  cpu: number;
  timeoutMs: number;
  /** The size of the build's private work folder (and of its /tmp), in MB. */
  diskMb: number;
}

/** Bounds of what a server may set, and the defaults when it sets nothing. */
export const BUILD_LIMITS = {
  memoryMb: { min: 64, max: 16_384, default: 1024 },
  cpu: { min: 0.05, max: 64, default: 1 },
  timeoutMs: { min: 1000, max: 60 * 60_000, default: 120_000 },
  diskMb: { min: 1, max: 65_536, default: 512 },
} as const;

/** The defaults of a server that sets nothing. */
export const DEFAULT_BUILD_LIMITS: BuildLimits = {
  memoryMb: BUILD_LIMITS.memoryMb.default,
  cpu: BUILD_LIMITS.cpu.default,
  timeoutMs: BUILD_LIMITS.timeoutMs.default,
  diskMb: BUILD_LIMITS.diskMb.default,
};

const positive = (what: string) =>
  z.number({ error: (i) => `must be a number${what} (got ${JSON.stringify(i.input)})` }).positive({
    error: (i) => `must be more than 0${what} (got ${JSON.stringify(i.input)})`,
  });

/** The manifest's `build:` field: any of memory (MB), cpu (cores), timeout (duration), disk (MB). */
export const buildField = z
  .strictObject({
    memory: positive(' MB').int({ error: 'must be a whole number of MB' }).optional(),
    cpu: positive(' cores').optional(),
    timeout: z
      .union([z.number(), z.string()])
      .transform((value, ctx) => {
        const ms = parseDuration(value, 's');
        if (ms === undefined || ms <= 0) {
          ctx.addIssue({
            code: 'custom',
            message: `must be a duration like "2m" (got ${JSON.stringify(value)})`,
          });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    disk: positive(' MB').int({ error: 'must be a whole number of MB' }).optional(),
  })
  .optional();

/** What a manifest asked for under `build:`. */
export type BuildRequestLimits = z.output<typeof buildField>;

/** The manifest's request within the server's ceilings; throws invalid_manifest naming the field over it. */
export function resolveBuildLimits(asked: BuildRequestLimits, server: BuildLimits): BuildLimits {
  const pick = (field: 'memory' | 'cpu' | 'timeout' | 'disk', key: keyof BuildLimits, unit: string) => {
    const value = asked?.[field];
    if (value === undefined) return server[key];
    if (value > server[key]) {
      throw new KumoError(
        'invalid_manifest',
        `manifest: "build.${field}" may be at most ${server[key]}${unit} on this server (got ${value}${unit}; kumo up --build-${field} raises it)`,
      );
    }
    return value;
  };
  return {
    memoryMb: pick('memory', 'memoryMb', ' MB'),
    cpu: pick('cpu', 'cpu', ' cores'),
    timeoutMs: pick('timeout', 'timeoutMs', ' ms'),
    diskMb: pick('disk', 'diskMb', ' MB'),
  };
}
