/**
 * The process tier: an instance is a child process (confined by a Sandbox) serving the Instance
 * protocol on a Unix socket. Readiness and load errors arrive as JSON lines on file descriptor 3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KumoError } from '../../core/index.ts';
import type {
  Assignment,
  Capability,
  CpuUsage,
  Driver,
  ExitInfo,
  Instance,
  InstanceSpec,
  JobResult,
  JobSpec,
  LimitViolation,
} from '../driver.ts';
import { mainThreadBusyMs } from './cpu-usage.ts';
import { splitLines } from './line-splitter.ts';
import { sendAssignment } from './stem-assign.ts';
import type { Sandbox, SandboxPlan } from './sandbox.ts';

/**
 * What runtimes print when their own heap limit (set to match the memory limit) stops them before
 * the cgroup does: V8's fatal OOM, Python's MemoryError at top level.
 */
const RUNTIME_OOM = /JavaScript heap out of memory|^MemoryError\b|Reached heap limit/;

/**
 * What runtimes print for a write refused by a full filesystem. The only writable places in the
 * sandbox are its size-limited /tmp and /dev/shm (and the socket folder): once the instance has
 * exited they are gone, and this is the evidence left.
 */
const NO_SPACE = /\bENOSPC\b|No space left on device/;

/** Resolves when `stream` has ended, or after `ms`. */
function stderrDrained(stream: Readable | null, ms: number): Promise<void> {
  if (!stream || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How many trailing stderr lines a start failure quotes. */
const STDERR_TAIL = 12;

/** Starts instances as sandboxed child processes. */
export class ProcessDriver implements Driver {
  readonly name = 'process';
  readonly sandbox: Sandbox;

  constructor(sandbox: Sandbox) {
    this.sandbox = sandbox;
  }

  get neutralPaths(): boolean {
    return this.sandbox.isolated;
  }

  forget(hostPath: string): Promise<void> {
    return this.sandbox.forget(hostPath);
  }

  async run(job: JobSpec): Promise<JobResult> {
    job.signal?.throwIfAborted();
    const plan = await this.sandbox.prepareJob(job);
    const child = await spawnPlan(plan, 'pipe', 'build_failed', 'the build');
    return runJob(job, child, plan);
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const plan = await this.sandbox.prepare(spec);
    const child = await spawnPlan(plan, 'ignore', 'instance_failed_to_start', 'the instance');
    const instance = new ProcessInstance(spec, child, plan);
    try {
      await instance.ready(spec.startTimeoutMs);
      await plan.afterReady?.();
      return instance;
    } catch (err) {
      instance.kill();
      await instance.exited;
      throw err;
    }
  }

  capabilities(): Promise<Capability[]> {
    return this.sandbox.capabilities();
  }
}

/** One child process and everything it owns. */
class ProcessInstance implements Instance {
  readonly id: string;
  readonly socketPath: string;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly plan: SandboxPlan;
  private readonly stderrTail: string[] = [];
  private readonly control: Promise<{ type: string; code?: string; message?: string }>;
  private killedByUs = false;
  private runtimeOom = false;
  private noSpace = false;
  private gone = false;
  private assigned = false;

  constructor(spec: InstanceSpec, child: ChildProcess, plan: SandboxPlan) {
    this.id = spec.id;
    this.socketPath = spec.socketPath;
    this.child = child;
    this.plan = plan;
    if (child.stdout) splitLines(child.stdout, (line) => spec.onOutput('stdout', line));
    if (child.stderr) {
      splitLines(child.stderr, (line) => {
        // Noted when seen: V8's native stack trace after it can push the line out of the tail.
        if (RUNTIME_OOM.test(line)) this.runtimeOom = true;
        if (NO_SPACE.test(line)) this.noSpace = true;
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
        spec.onOutput('stderr', line);
      });
    }
    this.control = readControlMessage(child.stdio[3] as Readable | null);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = async (code: number | null, signal: NodeJS.Signals | null) => {
        this.gone = true;
        let reason: ExitInfo['reason'] = this.killedByUs ? 'killed' : 'exited';
        try {
          // The last stderr lines may still be in the pipe when 'exit' fires.
          await stderrDrained(child.stderr, 300);
          reason = (await plan.classifyExit?.(code, signal)) ?? reason;
          // A runtime that reported its heap limit died of it, even when kumo's kill (the gateway
          // discards an instance whose connection broke) reached the process first.
          if (reason !== 'memory_limit' && this.runtimeOom) reason = 'memory_limit';
          // Read before release removes the cgroup that counted a refused fork. Only for an exit
          // of its own: a limit does not end an instance, kumo's kill does.
          if (reason === 'exited') reason = (await this.violation()) ?? reason;
        } finally {
          await plan.release().catch(() => {});
          await rm(this.socketPath, { force: true }).catch(() => {});
          resolve({ code, signal, reason });
        }
      };
      child.once('exit', (code, signal) => void finish(code, signal));
      child.once('error', () => {
        // spawn failures (ENOENT) emit 'error' without 'exit'
        if (child.exitCode === null && child.signalCode === null && child.pid === undefined)
          void finish(null, null);
      });
    });
  }

  /** Resolves once the shim reports ready; rejects with its load error, an early exit or a timeout. */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KumoError('instance_failed_to_start', `the instance was not ready after ${timeoutMs}ms`),
          ),
        timeoutMs,
      );
    });
    const early = this.exited.then((info): never => {
      throw new KumoError(
        'instance_failed_to_start',
        `the instance exited during start (${describeExit(info)})${this.tail()}`,
      );
    });
    try {
      const msg = await Promise.race([this.control, timeout, early]);
      if (msg.type === 'ready') return;
      const code = msg.code === 'unknown_handler' ? 'unknown_handler' : 'instance_failed_to_start';
      throw new KumoError(code, `${msg.message ?? 'the instance failed to load'}${this.tail()}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async violation(): Promise<LimitViolation | undefined> {
    if (!this.plan.violation) return undefined; // no sandbox, no limits to run into
    const seen = await this.plan.violation().catch(() => undefined);
    return seen ?? (this.noSpace ? 'tmp_limit' : undefined);
  }

  async assign(a: Assignment): Promise<void> {
    if (this.assigned) throw new KumoError('instance_failed_to_start', 'a stem cell serves one version only');
    this.assigned = true;
    await this.plan.give?.(a.give);
    let msg: Awaited<ReturnType<typeof sendAssignment>>;
    try {
      msg = await sendAssignment(this.socketPath, { env: a.env }, a.timeoutMs);
    } catch (err) {
      // A shim that failed to load exits; its stderr says why better than the broken connection.
      const info = await Promise.race([this.exited, new Promise((r) => setTimeout(r, 300, undefined))]);
      const why = info ? `exited during start (${describeExit(info as ExitInfo)})` : (err as Error).message;
      throw new KumoError('instance_failed_to_start', `the instance ${why}${this.tail()}`);
    }
    if (msg.type === 'ready') return;
    const code = msg.code === 'unknown_handler' ? 'unknown_handler' : 'instance_failed_to_start';
    throw new KumoError(code, `${msg.message}${this.tail()}`);
  }

  async cpuUsage(): Promise<CpuUsage | undefined> {
    if (this.gone) return undefined;
    if (this.plan.cpuUsage) return this.plan.cpuUsage().catch(() => undefined);
    const pid = this.child.pid;
    const busyMs = pid === undefined ? undefined : await mainThreadBusyMs(pid);
    return busyMs === undefined ? undefined : { busyMs, throttledPeriods: 0 };
  }

  kill(): void {
    if (this.gone) return;
    this.killedByUs = true;
    signalGroup(this.child, 'SIGKILL');
  }

  async stop(graceMs = 5000): Promise<ExitInfo> {
    if (!this.gone) {
      this.killedByUs = true;
      if (this.plan.terminate) await this.plan.terminate().catch(() => signalGroup(this.child, 'SIGTERM'));
      else signalGroup(this.child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(this.child, 'SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }

  private tail(): string {
    const lines = this.stderrTail.filter((l) => l.trim());
    return lines.length ? `\n${lines.join('\n')}` : '';
  }
}

/**
 * Spawns a prepared plan with stdout, stderr and fd 3 piped, in its own process group (so a kill
 * reaches everything it forked); a spawn that fails releases the plan and throws `code`.
 */
async function spawnPlan(
  plan: SandboxPlan,
  stdin: 'ignore' | 'pipe',
  code: 'instance_failed_to_start' | 'build_failed',
  what: string,
): Promise<ChildProcess> {
  try {
    return spawn(plan.command, plan.args, {
      env: plan.env,
      cwd: plan.cwd,
      stdio: [stdin, 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (err) {
    await plan.release();
    throw new KumoError(code, `could not spawn ${what}: ${(err as Error).message}`);
  }
}

/** How much of a job's fd 3 is kept. */
const JOB_CONTROL_LIMIT = 64 * 1024;

/** Feeds, drains and times one job's process; releases its plan once it is gone. */
async function runJob(job: JobSpec, child: ChildProcess, plan: SandboxPlan): Promise<JobResult> {
  let verdict: 'timeout' | 'cancelled' | undefined;
  const stop = (why: 'timeout' | 'cancelled') => {
    verdict ??= why;
    signalGroup(child, 'SIGKILL');
    // bwrap's own children are in its pid namespace: ending the cgroup ends them all.
    void plan.release().catch(() => {});
  };
  const timer = setTimeout(() => stop('timeout'), job.timeoutMs);
  const onAbort = () => stop('cancelled');
  job.signal?.addEventListener('abort', onAbort, { once: true });
  let control = '';
  const fd3 = child.stdio[3] as Readable | null;
  fd3?.on('data', (chunk: Buffer) => {
    if (control.length < JOB_CONTROL_LIMIT)
      control += chunk.toString('utf8').slice(0, JOB_CONTROL_LIMIT - control.length);
  });
  fd3?.on('error', () => {});
  if (child.stderr) splitLines(child.stderr, job.onStderr);
  child.stdin?.on('error', () => {}); // the job may exit before reading all its input
  if (child.stdin) job.stdin.pipe(child.stdin);
  job.stdin.on('error', () => stop('cancelled'));
  child.stdout?.pipe(job.stdout, { end: false });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (c, s) => resolve([c, s]));
    child.once('error', () => {
      if (child.pid === undefined) resolve([null, null]);
    });
  });
  clearTimeout(timer);
  job.signal?.removeEventListener('abort', onAbort);
  job.stdin.unpipe();
  try {
    const reason = verdict ?? (await plan.classifyExit?.(code, signal)) ?? 'exited';
    return { code, signal, reason, control };
  } finally {
    await plan.release().catch(() => {});
  }
}

/** Signals the whole process group (the instance and anything it forked). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Reads the first JSON line from the control pipe (fd 3). */
function readControlMessage(
  stream: Readable | null,
): Promise<{ type: string; code?: string; message?: string }> {
  return new Promise((resolve) => {
    if (!stream) return;
    let settled = false;
    splitLines(stream, (line) => {
      if (settled || !line.trim()) return;
      try {
        const msg = JSON.parse(line) as { type?: unknown; code?: unknown; message?: unknown };
        if (typeof msg.type !== 'string') return;
        settled = true;
        resolve({
          type: msg.type,
          ...(typeof msg.code === 'string' ? { code: msg.code } : {}),
          ...(typeof msg.message === 'string' ? { message: msg.message } : {}),
        });
      } catch {
        // not a control message: ignore (a function cannot reach fd 3 through console)
      }
    });
    stream.on('error', () => {});
  });
}

/** "exit code 1" or "signal SIGKILL". */
export function describeExit(info: ExitInfo): string {
  if (info.reason === 'memory_limit') return 'memory limit exceeded';
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}
