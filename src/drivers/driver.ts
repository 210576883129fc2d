/**
 * The isolation-tier contract (DESIGN.md "Driver"). A driver starts instances from a LaunchPlan
 * and reports how they end; it knows nothing of HTTP routing or pools.
 */
import type { Readable, Writable } from 'node:stream';
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
  /**
   * Host folders only this instance may use (its host channel): the sandbox makes the instance's
   * own host identity their owner, and of what is directly in them, mode 0700.
   */
  ownDirs?: string[];
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

/**
 * How busy an instance has been so far, as the host's scheduler counts it (the kernel's accounting, never what the
 * instance says about itself, so a tenant cannot talk the autoscaler into more instances).
 */
export interface CpuUsage {
  /** Time its processes' main threads (the event loops) ran or waited to run, in ms. */
  busyMs: number;
  /** CFS periods in which its CPU quota ran out (0 where there is no cpu cgroup). */
  throttledPeriods: number;
}

/** How an instance ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
}

/** What a stem cell (an instance started with no function) is given when a version takes it. */
export interface Assignment {
  /** The whole environment an ordinary start of the version would have had. */
  env: Record<string, string>;
  /** Host paths (its code, its host channel) made the instance's own, recursively, before it loads. */
  give: string[];
  /** Give up when the function has not loaded after this long. */
  timeoutMs: number;
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
  /** How busy it has been so far (a few small file reads), or undefined once it is gone. */
  cpuUsage(): Promise<CpuUsage | undefined>;
  /**
   * Hands a stem cell its function (once: a cell serves one version for its whole life) and
   * resolves once it loaded; rejects like `Driver.start` (unknown_handler, instance_failed_to_start).
   */
  assign(assignment: Assignment): Promise<void>;
}

/**
 * A one-shot sandboxed command (a build): the same isolation and limits as an instance, a private
 * writable folder at `launch.cwd` of `work.sizeMb` (a tmpfs in a sandbox, so the size is a hard
 * bound), input on stdin, output on stdout, a log on stderr and one report on fd 3.
 */
export interface JobSpec {
  /** Unique id (cgroup and file names). */
  id: string;
  launch: LaunchPlan;
  limits: InstanceLimits;
  work: {
    sizeMb: number;
    /** The host folder used as the work folder when there is no sandbox to make a private one. */
    hostDir: string;
  };
  /** Wall time after which the job is killed. */
  timeoutMs: number;
  stdin: Readable;
  stdout: Writable;
  onStderr: (line: string) => void;
  signal?: AbortSignal;
}

/** How a job ended: `timeout` and `memory_limit` are kumo's verdicts, `control` what it said on fd 3. */
export interface JobResult {
  code: number | null;
  signal: string | null;
  reason: ExitReason | 'timeout' | 'cancelled';
  /** What the job wrote on fd 3 (at most 64 KB). */
  control: string;
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
  /** Runs a job to its end (or its deadline) under the same isolation as an instance. */
  run(job: JobSpec): Promise<JobResult>;
  /** Whether instances and jobs see neutral paths (/var/task, /opt/kumo): false only without a sandbox. */
  readonly neutralPaths: boolean;
  /** Drops whatever the driver keeps for a host path it was shown (staged copies of a removed build). */
  forget(hostPath: string): Promise<void>;
  /** What this driver can enforce on this host. */
  capabilities(): Promise<Capability[]>;
}
