/**
 * Why a leased instance failed a request, told from the driver's own evidence: a limit the driver
 * saw violated (processes, /tmp), a memory kill, or a plain crash. It lives here, below the
 * gateway, because only the pool and the drivers know instances: the Invoker gets a verdict with
 * its error code, status and log line, and never looks at exit codes or cgroups itself.
 */
import type { Outcome } from '../core/index.ts';
import type { ExitInfo, LimitViolation } from '../drivers/index.ts';
import type { Lease, PoolTarget } from './version-pool.ts';

/** How long to wait for an instance's exit status after its connection broke. */
const EXIT_GRACE_MS = 500;

/** A failure of an instance during a request, ready to be answered and logged. */
export interface InstanceFailure {
  code: 'memory_limit_exceeded' | 'process_limit_exceeded' | 'tmp_limit_exceeded' | 'instance_crashed';
  status: number;
  outcome: Outcome;
  /** What the caller is told. */
  message: string;
  /** The server log's line about it, with its level. */
  log: { level: 'error' | 'warn'; message: string; fields?: Record<string, string> };
}

/** What the caller and the server log are told when an invocation failed on a limit. */
const LIMITS: Record<
  LimitViolation,
  { code: 'process_limit_exceeded' | 'tmp_limit_exceeded'; what: string }
> = {
  process_limit: { code: 'process_limit_exceeded', what: 'its process limit' },
  tmp_limit: { code: 'tmp_limit_exceeded', what: 'the size of its /tmp' },
};

/** The failure of a request that hit `violation` (the instance is replaced). */
export function limitFailure(target: PoolTarget, violation: LimitViolation): InstanceFailure {
  const { code, what } = LIMITS[violation];
  const name = target.functionName;
  return {
    code,
    status: 500,
    outcome: 'error',
    message: `function '${name}' failed after exceeding ${what}; the instance was replaced`,
    log: { level: 'error', message: `Function '${name}' aborted after exceeding ${what}` },
  };
}

/**
 * The failure of a request whose connection to the instance broke: discards the lease and reads
 * the evidence. Whether a limit was hit is read before the kill, while the instance's cgroup
 * still exists (one that exited by itself says so in its exit info too).
 */
export async function brokenLeaseFailure(lease: Lease, target: PoolTarget): Promise<InstanceFailure> {
  const violation = await lease.instance.violation().catch(() => undefined);
  lease.discard();
  const info = await exitInfo(lease, EXIT_GRACE_MS);
  const name = target.functionName;
  if (info?.reason === 'memory_limit')
    return {
      code: 'memory_limit_exceeded',
      status: 500,
      outcome: 'memory_limit',
      message: `function '${name}' went over its memory limit of ${target.spec.memory} MB and was stopped`,
      log: { level: 'error', message: `Function '${name}' aborted after violating memory constraints` },
    };
  const limit =
    violation ?? (info?.reason === 'process_limit' || info?.reason === 'tmp_limit' ? info.reason : undefined);
  if (limit) return limitFailure(target, limit);
  return {
    code: 'instance_crashed',
    status: 502,
    outcome: 'crash',
    message: `function '${name}' crashed while handling the request (see kumo logs ${name})`,
    log: {
      level: 'warn',
      message: 'instance crashed during an invocation',
      fields: { exit: info ? (info.signal ?? String(info.code)) : 'connection lost' },
    },
  };
}

async function exitInfo(lease: Lease, ms: number): Promise<ExitInfo | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([lease.instance.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
