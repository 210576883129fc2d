/**
 * The isolation-tier contract (DESIGN.md "Driver"). A driver starts instances from a LaunchPlan
 * and reports how they end; it knows nothing of HTTP routing or pools.
 */
import type { LaunchPlan } from '../runtimes/index.ts';

/** Limits every driver enforces (or refuses to start without). */
export interface InstanceLimits {
  memoryMb: number;
  /** Network access beyond the instance's own Unix socket. */
  network: boolean;
  /** Processes and threads the instance may have at once (sandbox default: 64). */
  maxProcesses?: number;
  /** CPU cores, fractional allowed (sandbox default: 1). */
  cpu?: number;
  /** Size of the instance's private /tmp (and /dev/shm) in MB (sandbox default: 64). */
  tmpSizeMb?: number;
}

/** Everything needed to start one instance. */
export interface InstanceSpec {
  /** Unique id of this instance (used for socket and cgroup names). */
  id: string;
  functionName: string;
  version: number;
  launch: LaunchPlan;
  /** The Unix socket the instance will listen on; the driver waits for it to be ready. */
  socketPath: string;
  limits: InstanceLimits;
  /** Give up on an instance that is not ready after this long. */
  startTimeoutMs: number;
  /** Receives every line the instance writes to stdout or stderr. */
  onOutput: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** Why an instance ended, as far as the driver can tell. */
export type ExitReason =
  /** The process exited by itself (crash or clean exit). */
  | 'exited'
  /** The platform killed it (timeout, stop, replacement). */
  | 'killed'
  /** The memory limit was hit. */
  | 'memory_limit'
  /** It died after hitting its process limit (a fork failed). */
  | 'process_limit'
  /** It died after filling its size-limited /tmp or /dev/shm. */
  | 'tmp_limit';

/** A limit a running instance has run into (memory is not one: hitting it ends the instance). */
export type LimitViolation = 'process_limit' | 'tmp_limit';

/** How an instance ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
}

/** A running instance. */
export interface Instance {
  readonly id: string;
  readonly socketPath: string;
  /** Resolves once, when the instance is gone and its resources are released. */
  readonly exited: Promise<ExitInfo>;
  /** Kills the instance at once (SIGKILL); `exited` resolves with reason "killed". */
  kill(): void;
  /** Asks the instance to stop (SIGTERM), kills it after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /**
   * The limit this running instance has hit, if any: a fork refused by its process limit, its
   * /tmp or /dev/shm full. A few file reads: the gateway asks only when an invocation failed.
   */
  violation(): Promise<LimitViolation | undefined>;
}

/** One isolation feature and whether this host provides it, for `kumo doctor`. */
export interface Capability {
  feature: string;
  available: boolean;
  detail: string;
  /** The command that provides it, when it is missing. */
  fix?: string;
}

/** An isolation tier. */
export interface Driver {
  readonly name: string;
  /** Starts an instance and resolves once it is ready to serve; rejects with instance_failed_to_start. */
  start(spec: InstanceSpec): Promise<Instance>;
  /** What this driver can enforce on this host. */
  capabilities(): Promise<Capability[]>;
}
