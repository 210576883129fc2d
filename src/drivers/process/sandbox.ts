/**
 * The slot where isolation plugs into the process driver. A sandbox turns the runtime's launch
 * plan into the command that runs it confined (bubblewrap, cgroups, seccomp), and tells how an
 * instance ended (for example, killed by the memory limit). The pool and gateway never see it.
 */
import type { Capability, CpuUsage, ExitReason, InstanceSpec, JobSpec, LimitViolation } from '../driver.ts';

/** A prepared, confined command line and the resources that go with it. */
export interface SandboxPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Called once the instance reported ready (e.g. to delete one-shot start files). */
  afterReady?(): Promise<void>;
  /** Why the process ended, when the sandbox knows better than the exit status (e.g. OOM kill). */
  classifyExit?(code: number | null, signal: string | null): Promise<ExitReason | undefined>;
  /** The limit the instance has run into so far (see Instance.violation); also asked at exit, before release. */
  violation?(): Promise<LimitViolation | undefined>;
  /** Makes `paths` (and everything in them) the instance's own host identity's; absent: nothing to do. */
  give?(paths: string[]): Promise<void>;
  /** How busy the instance's processes have been (absent: the driver reads the child's own). */
  cpuUsage?(): Promise<CpuUsage | undefined>;
  /**
   * Asks the instance to stop (SIGTERM) when a signal to the process group would not reach it
   * (bubblewrap puts the function in its own session and pid namespace, and does not forward).
   */
  terminate?(): Promise<void>;
  /** Releases everything the plan created (cgroups, temp mounts); called once, after exit. */
  release(): Promise<void>;
}

/** An isolation mechanism for process-tier instances. */
export interface Sandbox {
  readonly name: string;
  /** False only for the explicit `--insecure-no-sandbox` mode. */
  readonly isolated: boolean;
  prepare(spec: InstanceSpec): Promise<SandboxPlan>;
  /** The confined command of a one-shot job (a build), with its private work folder. */
  prepareJob(job: JobSpec): Promise<SandboxPlan>;
  /** Drops staged copies of a host path this sandbox was shown (a removed build). */
  forget(hostPath: string): Promise<void>;
  capabilities(): Promise<Capability[]>;
}
