/**
 * Manifest fields of the python, exec and lua runtimes and of plugins, kept out of manifest.ts so
 * that each runtime's options read in one place. All of them are optional: a node function never
 * sees them.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** A plugin name as listed under `plugins:` (`kv`, `docs`, or one a server adds). */
export const PLUGIN_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** Bounds of the lua VM limits: memory in KB, time in ms. */
export const LUA_LIMITS = {
  maxmemKb: { min: 64, max: 4 * 1024 * 1024 },
  timeoutMs: { min: 1, max: 15 * 60_000 },
} as const;

/**
 * Splits a command line on blanks, honouring single and double quotes (no variables, no globs: it
 * is never given to a shell). `"jq -c ."` → `["jq", "-c", "."]`.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

/** exec runtime: the program and its arguments, as a list or as one command line. */
export const commandField = z
  .union([z.string().min(1), z.array(z.string()).min(1)], {
    error: 'must be a command line ("jq -c .") or a list (["jq", "-c", "."])',
  })
  .transform((value, ctx) => {
    const words = typeof value === 'string' ? splitCommandLine(value) : value;
    if (words.length === 0 || words[0] === '') {
      ctx.addIssue({ code: 'custom', message: 'must name a program' });
      return z.NEVER;
    }
    return words;
  })
  .optional();

/** Plugins the function may `call()`; any other is refused at call time. */
export const pluginsField = z
  .array(z.string().regex(PLUGIN_NAME, { error: 'entries must be plugin names like "kv" or "docs"' }), {
    error: 'must be a list of plugin names, e.g. [kv, docs]',
  })
  .default([]);

const luaTimeout = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value, 'ms');
  const { min, max } = LUA_LIMITS.timeoutMs;
  if (ms === undefined || ms < min || ms > max) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a duration between ${min}ms and ${max}ms, like 500 or "2s" (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * lua runtime: limits the VM enforces on each run, after the lua action server's `maxmem` (KB) and
 * `timeout` (ms). Absent: the VM may use half the function's memory, and the function's timeout.
 */
export const luaField = z
  .strictObject({
    maxmem: z
      .number({ error: 'must be a whole number of KB' })
      .int({ error: 'must be a whole number of KB' })
      .min(LUA_LIMITS.maxmemKb.min, { error: `must be at least ${LUA_LIMITS.maxmemKb.min} KB` })
      .max(LUA_LIMITS.maxmemKb.max, { error: `must be at most ${LUA_LIMITS.maxmemKb.max} KB` })
      .optional(),
    timeout: luaTimeout.optional(),
  })
  .optional();
