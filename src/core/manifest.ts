/**
 * The function manifest (`kumo.yaml`): one schema validates the file and the deploy flags, and the
 * resolved `FunctionSpec` type is derived from it. Durations accept "30s" or seconds.
 */
import { z } from 'zod';
import { HANDLER_STYLES } from './instance-protocol.ts';
import { parseDuration } from './duration.ts';
import { KumoError } from './errors.ts';
import { FUNCTION_NAME } from './name.ts';
import { scheduleField } from './schedule-field.ts';
import { buildField } from './build-limits.ts';
import { commandField, luaField, pluginsField } from './runtime-fields.ts';
import { accessField, rateLimitField } from './access-fields.ts';
import { docsQuotaField, kvQuotaField } from './plugin-quotas.ts';

/** Runtimes this build of kumo can run. */
export const RUNTIMES = ['node', 'python', 'exec', 'lua', 'provided'] as const;
/** Isolation tiers a function may ask for. */
export const ISOLATION_TIERS = ['process'] as const;

/** Default and bounds of every limit, in one place for the docs and the schema. */
export const LIMITS = {
  memoryMb: { min: 64, max: 4096, default: 256 },
  timeoutMs: { min: 100, max: 15 * 60_000, default: 30_000 },
  /** `default` is the node runtime's; the others serve one request at a time (see defaultConcurrency). */
  concurrency: { min: 1, max: 1000, default: 80 },
  instancesMin: { min: 0, max: 50, default: 0 },
  instancesMax: { min: 1, max: 100, default: 10 },
  idleMs: { min: 1000, max: 24 * 3_600_000, default: 300_000 },
  queue: { min: 0, max: 10_000, default: 100 },
  retries: { min: 0, max: 10, default: 2 },
  asyncConcurrency: { min: 1, max: 1000, default: 1 },
  maxProcesses: { min: 1, max: 4096, default: 64 },
  tmpSizeMb: { min: 1, max: 4096, default: 64 },
} as const;

/** CPU share bounds, in cores (fractions allowed). */
export const CPU_LIMITS = { min: 0.05, max: 64, default: 1 } as const;

const duration = (field: keyof typeof LIMITS, unit: 'ms' | 's' = 's') =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = parseDuration(value, unit);
    const { min, max } = LIMITS[field];
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration like "30s", "500ms" or "5m" (got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min}ms and ${max}ms (got ${ms}ms)` });
      return z.NEVER;
    }
    return ms;
  });

const int = (field: keyof typeof LIMITS, unit = '') => {
  const { min, max } = LIMITS[field];
  return z
    .number({
      error: (i) =>
        `must be a whole number between ${min} and ${max}${unit} (got ${JSON.stringify(i.input)})`,
    })
    .int({ error: (i) => `must be a whole number (got ${JSON.stringify(i.input)})` })
    .min(min, { error: (i) => `must be between ${min} and ${max}${unit} (got ${JSON.stringify(i.input)})` })
    .max(max, { error: (i) => `must be between ${min} and ${max}${unit} (got ${JSON.stringify(i.input)})` });
};

const envValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The schema of `kumo.yaml` (and of the deploy flags merged over it). */
export const manifestSchema = z
  .strictObject({
    name: z
      .string()
      .regex(FUNCTION_NAME, {
        error: 'must be a DNS label: 1-63 of a-z, 0-9 and "-", not starting or ending with "-"',
      })
      .optional(),
    runtime: z.enum(RUNTIMES, { error: `must be one of: ${RUNTIMES.join(', ')}` }).default('node'),
    handler: z.string().min(1).optional(),
    style: z.enum(HANDLER_STYLES, { error: `must be one of: ${HANDLER_STYLES.join(', ')}` }).default('auto'),
    isolation: z
      .enum(ISOLATION_TIERS, { error: `must be one of: ${ISOLATION_TIERS.join(', ')}` })
      .default('process'),
    memory: int('memoryMb', ' MB').default(LIMITS.memoryMb.default),
    timeout: duration('timeoutMs').default(LIMITS.timeoutMs.default),
    /** Absent: the runtime's default (defaultConcurrency), filled in by the schema's transform. */
    concurrency: int('concurrency').optional(),
    instances: z
      .strictObject({
        min: int('instancesMin').default(LIMITS.instancesMin.default),
        max: int('instancesMax').default(LIMITS.instancesMax.default),
        idle: duration('idleMs').default(LIMITS.idleMs.default),
      })
      .default({
        min: LIMITS.instancesMin.default,
        max: LIMITS.instancesMax.default,
        idle: LIMITS.idleMs.default,
      })
      .refine((i) => i.min <= i.max, { error: 'min must not be greater than max' }),
    queue: int('queue').default(LIMITS.queue.default),
    env: z
      .record(
        z
          .string()
          .regex(envKey, { error: 'keys must be environment variable names ([A-Za-z_][A-Za-z0-9_]*)' }),
        envValue,
      )
      .default({}),
    network: z.boolean({ error: 'must be true or false' }).default(false),
    /** `public`: anyone may invoke; `private`: an API key with the invoke scope is required (README "Access control"). */
    access: accessField,
    /** Invocations per second for the function, all callers together, 429 above (absent: unlimited). */
    rateLimit: rateLimitField,
    cpu: z
      .number({
        error: (i) =>
          `must be a number of cores between ${CPU_LIMITS.min} and ${CPU_LIMITS.max} (got ${JSON.stringify(i.input)})`,
      })
      .min(CPU_LIMITS.min, {
        error: (i) =>
          `must be between ${CPU_LIMITS.min} and ${CPU_LIMITS.max} cores (got ${JSON.stringify(i.input)})`,
      })
      .max(CPU_LIMITS.max, {
        error: (i) =>
          `must be between ${CPU_LIMITS.min} and ${CPU_LIMITS.max} cores (got ${JSON.stringify(i.input)})`,
      })
      .default(CPU_LIMITS.default),
    maxProcesses: int('maxProcesses').default(LIMITS.maxProcesses.default),
    tmpSize: int('tmpSizeMb', ' MB').default(LIMITS.tmpSizeMb.default),
    /** Async runs retried after a 5xx, timeout or crash (docs: README "Async invocations"). */
    retries: int('retries').default(LIMITS.retries.default),
    /** Parallel async runs; absent means half the function's capacity, so sync traffic keeps the rest. */
    async: z.strictObject({ concurrency: int('asyncConcurrency').optional() }).default({}),
    /** `bodies: false` keeps request and response bodies out of the invocation history. */
    history: z
      .strictObject({ bodies: z.boolean({ error: 'must be true or false' }).default(true) })
      .default({ bodies: true }),
    /** Cron schedules: a cron string, a {cron, tz, data, overlap, catchup} mapping, or a list of those. */
    schedule: scheduleField.default([]),
    /** exec runtime: the program to run per request (`jq -c .` or a list). */
    command: commandField,
    /** Plugins the function may `call()` (lua and node): e.g. [kv, docs]. */
    plugins: pluginsField,
    /** What the function may keep in `kv`: keys and size (MB), within the server's ceilings. */
    kv: kvQuotaField,
    /** What the function may insert in `docs`: documents and size (MB), within the server's ceilings. */
    docs: docsQuotaField,
    /** lua runtime: VM limits, `maxmem` in KB and `timeout` in ms. */
    lua: luaField,
    /** Limits of this function's builds (memory, cpu, timeout, disk), within the server's. */
    build: buildField,
    /** What the Lambda API was told at CreateFunction (its runtime name, a description), shown back by it. */
    lambda: z
      .strictObject({
        runtime: z.string().max(64).optional(),
        description: z.string().max(256).optional(),
        /** Base64 SHA-256 and size of the zip CreateFunction or UpdateFunctionCode received. */
        codeSha256: z.string().max(64).optional(),
        codeSize: z.int().min(0).optional(),
      })
      .optional(),
  })
  .transform((m) => ({ ...m, concurrency: m.concurrency ?? defaultConcurrency(m.runtime) }));

/**
 * Requests one instance serves at once when the manifest does not say. Node's handlers are
 * asynchronous and one event loop serves many requests at a time, as Cloud Run's default of 80
 * assumes; the autoscaler adds an instance when one is saturated (pool/saturation.ts), not when
 * it is merely busy. The python shim runs handlers on threads under one GIL, the lua shim has one
 * VM, and exec forks a program per request: those keep Lambda's one request per instance.
 * `concurrency: 1` in a manifest keeps Lambda's semantics for a node function too.
 */
export function defaultConcurrency(runtime: (typeof RUNTIMES)[number]): number {
  return runtime === 'node' ? LIMITS.concurrency.default : 1;
}

/**
 * Async and cron runs of a function at once when `async.concurrency` is not set: half of each
 * instance's capacity, at most 10 per instance, so sync requests keep the rest and a backlog does
 * not pile 40 runs onto one instance of a concurrency-80 function before it can scale.
 */
export function defaultAsyncConcurrency(spec: { concurrency: number; instances: { max: number } }): number {
  return Math.max(1, Math.floor(spec.instances.max * Math.min(spec.concurrency / 2, 10)));
}

/** What a user may write in kumo.yaml. */
export type ManifestInput = z.input<typeof manifestSchema>;
/** A validated manifest with defaults filled in and durations in milliseconds. */
export type Manifest = z.output<typeof manifestSchema>;

/** A function as kumo runs it: a validated manifest with its name settled. */
export interface FunctionSpec extends Omit<Manifest, 'name'> {
  name: string;
}

/** Validates raw manifest data (parsed YAML merged with flags); throws invalid_manifest naming the field. */
export function parseManifest(raw: unknown, source = 'manifest'): Manifest {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new KumoError(
      'invalid_manifest',
      `${source}: must be a mapping of fields (got ${Array.isArray(raw) ? 'a list' : typeof raw})`,
    );
  }
  const result = manifestSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (issue.path.length ? `${field}.${k}` : k));
      return `${source}: unknown field ${keys.map((k) => `"${k}"`).join(', ')}`;
    }
    if (issue.code === 'invalid_key') {
      return `${source}: "${field}" keys must be environment variable names ([A-Za-z_][A-Za-z0-9_]*)`;
    }
    return `${source}: "${field}" ${issue.message}`;
  });
  throw new KumoError('invalid_manifest', issues.join('; '), { issues });
}

/** Settles the function name: the manifest's, or the fallback (flag or folder name). */
export function toFunctionSpec(manifest: Manifest, fallbackName: string | undefined): FunctionSpec {
  const name = manifest.name ?? fallbackName;
  if (!name)
    throw new KumoError(
      'invalid_manifest',
      'manifest: "name" is required (set it in kumo.yaml or pass --name)',
    );
  if (!FUNCTION_NAME.test(name)) {
    throw new KumoError(
      'invalid_name',
      `function name ${JSON.stringify(name)} is not a DNS label: use 1-63 of a-z, 0-9 and "-"`,
    );
  }
  const { name: _ignored, ...rest } = manifest;
  return { ...rest, name };
}
