/**
 * No isolation at all: the instance is a plain child process with a clean environment and a
 * heap limit. Only for `--insecure-no-sandbox` and hosts where the operator accepted that.
 */
import type { Capability, InstanceSpec, JobSpec } from '../driver.ts';
import type { Sandbox, SandboxPlan } from './sandbox.ts';

/** Runs instances as plain child processes. */
export class NoSandbox implements Sandbox {
  readonly name = 'none';
  readonly isolated = false;

  async prepare(spec: InstanceSpec): Promise<SandboxPlan> {
    const { command, args, env, cwd } = spec.launch;
    return { command, args, env, cwd, release: async () => {} };
  }

  /** The job runs in its host work folder (its plan was made for the host's paths). */
  async prepareJob(job: JobSpec): Promise<SandboxPlan> {
    const { command, args, env } = job.launch;
    return { command, args, env, cwd: job.work.hostDir, release: async () => {} };
  }

  async forget(): Promise<void> {}

  async capabilities(): Promise<Capability[]> {
    return [
      {
        feature: 'sandbox',
        available: false,
        detail: 'instances run as plain processes (--insecure-no-sandbox)',
      },
    ];
  }
}
