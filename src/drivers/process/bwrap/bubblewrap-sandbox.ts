/**
 * The process tier's real isolation: every instance runs under bubblewrap in fresh mount, pid,
 * ipc, uts, cgroup, user (and, unless the function asks for network, network) namespaces, as an
 * unprivileged host user with no capabilities, under a seccomp filter, and inside its own cgroups
 * for memory, processes and CPU. See bwrap-command.ts for the launch chain and cgroups.ts for
 * the groups. It refuses to prepare anything on a host where the probe found a missing piece.
 */
import {
  chmod,
  chown,
  lchown,
  lstat,
  readdir,
  readlink,
  realpath,
  rm,
  statfs,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix } from 'node:path';
import { KumoError } from '../../../core/index.ts';
import type {
  Capability,
  CpuUsage,
  InstanceLimits,
  InstanceSpec,
  JobSpec,
  LimitViolation,
} from '../../driver.ts';
import { NEUTRAL, type Mount } from '../../../runtimes/index.ts';
import type { Sandbox, SandboxPlan } from '../sandbox.ts';
import { bwrapArgs, envArgsData, launchCommand, type BwrapConfig } from './bwrap-command.ts';
import { Cgroups, type InstanceCgroup } from './cgroups.ts';
import { processesBusyMs, throttledPeriods } from '../cpu-usage.ts';
import { installFirewall, openEgress, type Egress } from './egress.ts';
import { HostIds, type HostId } from './host-ids.ts';
import { hostConfig, probeCapabilities, sandboxProblems, type HostProbe } from './host-probe.ts';
import { accessProblem } from './path-access.ts';
import { PathMirror } from './path-mirror.ts';
import { sandboxFilePaths, writeSandboxFiles, type SandboxFiles } from './sandbox-files.ts';

/** A /tmp or /dev/shm with less room than this counts as full (tmpfs keeps nothing in reserve). */
const FULL_BELOW_BYTES = 64 * 1024;

/** Limits used when a function does not set them. */
export interface SandboxDefaults {
  /** Processes and threads per instance (Node itself uses about a dozen threads). */
  maxProcesses: number;
  /** CPU cores per instance (fractional allowed). */
  cpu: number;
  /** Size of the private /tmp (and, separately, /dev/shm), in MB; their pages also count as memory. */
  tmpSizeMb: number;
}

/** The defaults: 64 processes, 1 CPU, 64 MB of /tmp. */
export const SANDBOX_DEFAULTS: SandboxDefaults = { maxProcesses: 64, cpu: 1, tmpSizeMb: 64 };

/** How to build the sandbox. */
export interface BubblewrapSandboxOptions {
  /** The host probe (`probeHost()`): where bwrap and setpriv are, which cgroups to use. */
  probe: HostProbe;
  /** A folder private to kumo for generated files (seccomp program, /etc files, env files). */
  runDir: string;
  /**
   * A folder the sandbox user can reach (e.g. a 0711 folder in /tmp) where read-only paths it
   * cannot reach are mirrored. Without it, such paths are refused with the chmod that fixes them.
   */
  stageDir?: string;
  defaults?: Partial<SandboxDefaults>;
  /** Where host-wide claims of sandbox ids are kept (default DEFAULT_CLAIM_DIR; tests use their own). */
  idClaimDir?: string;
}

/** The limits of one instance with every default filled in. */
export interface ResolvedLimits {
  memoryMb: number;
  network: boolean;
  maxProcesses: number;
  cpu: number;
  tmpSizeMb: number;
}

/** Confines process-tier instances with bubblewrap, seccomp and cgroups. */
export class BubblewrapSandbox implements Sandbox {
  readonly name = 'bubblewrap';
  readonly isolated = true;
  readonly probe: HostProbe;
  private readonly runDir: string;
  private readonly defaults: SandboxDefaults;
  private readonly cgroups: Cgroups;
  private readonly groups = new Map<string, InstanceCgroup>();
  private files: Promise<SandboxFiles> | undefined;
  private readonly mirror: PathMirror | undefined;
  /** One host uid per instance and job when kumo is root; none otherwise (they run as kumo's user). */
  private readonly ids: HostIds | undefined;
  /** The firewall rule `network: true` relies on, installed at the first such instance. */
  private firewall: Promise<void> | undefined;

  constructor(options: BubblewrapSandboxOptions) {
    this.ids = options.probe.runsAsRoot ? new HostIds(options.probe.idRange, options.idClaimDir) : undefined;
    this.mirror = options.stageDir
      ? new PathMirror(options.stageDir, options.probe.hostUid, options.probe.hostGid)
      : undefined;
    this.probe = options.probe;
    this.runDir = options.runDir;
    this.defaults = { ...SANDBOX_DEFAULTS, ...options.defaults };
    this.cgroups = new Cgroups(options.probe.cgroups);
  }

  async prepare(spec: InstanceSpec): Promise<SandboxPlan> {
    this.refuseWithoutSandbox();
    const socketDir = dirname(spec.socketPath);
    await this.checkSocketDir(spec, socketDir);
    const limits = this.resolveLimits(spec.limits);
    return this.confine({
      id: spec.id,
      launch: spec.launch,
      limits,
      memoryBytes: Math.round(limits.memoryMb * 1024 * 1024),
      writable: [{ source: socketDir, target: NEUTRAL.socketDir }],
      beforeGroup: (owner) => this.handOver(socketDir, spec.ownDirs ?? [], owner),
      egressDir: `${socketDir}.net`,
    });
  }

  async prepareJob(job: JobSpec): Promise<SandboxPlan> {
    this.refuseWithoutSandbox();
    const limits = this.resolveLimits(job.limits);
    if (!Number.isFinite(job.work.sizeMb) || job.work.sizeMb <= 0)
      throw startError(`the work folder size must be a positive number (got ${job.work.sizeMb})`);
    // tmpfs pages are charged to the memory cgroup: the work folder and /tmp come on top of memory.
    const memoryMb = limits.memoryMb + job.work.sizeMb + limits.tmpSizeMb;
    return this.confine({
      id: job.id,
      launch: job.launch,
      limits,
      memoryBytes: Math.round(memoryMb * 1024 * 1024),
      writable: [],
      workTmpfs: { target: job.launch.cwd, sizeBytes: Math.round(job.work.sizeMb * 1024 * 1024) },
    });
  }

  async forget(hostPath: string): Promise<void> {
    await this.mirror?.forget(hostPath);
  }

  /** The launch chain of one confined process: cgroup, env file, bwrap view. */
  private async confine(c: {
    id: string;
    launch: InstanceSpec['launch'];
    limits: ResolvedLimits;
    memoryBytes: number;
    writable: Mount[];
    workTmpfs?: { target: string; sizeBytes: number };
    beforeGroup?: (owner: HostId | undefined) => Promise<void>;
    /** Where pasta keeps its pid file when the instance has network (a new folder). */
    egressDir?: string;
  }): Promise<SandboxPlan> {
    // The id names the cgroup and the env file: it must be one plain path component.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(c.id)) {
      throw startError(`instance id ${JSON.stringify(c.id)} must be letters, digits, ".", "_" or "-"`);
    }
    this.checkPaths(c.launch);
    this.refuseNetworkWithoutEgress(c.limits);
    const owner = await this.claimId();
    let group: InstanceCgroup | undefined;
    let egress: Egress | undefined;
    let mounts: Mount[];
    const files = await this.sandboxFiles().catch(async (err: unknown) => {
      await owner?.release();
      throw err;
    });
    const envFile = join(files.envDir, c.id);
    try {
      // Handed over first: the instance's own folders are then readable by it, and not mirrored.
      await c.beforeGroup?.(owner);
      mounts = await this.checkMounts(c.launch, owner);
      group = await this.createGroup(c.id, c.limits, c.memoryBytes);
      await writeFile(envFile, envArgsData(c.launch.env), { mode: 0o600 });
      if (c.limits.network) egress = await this.openNetwork(owner, c.egressDir);
    } catch (err) {
      await this.releaseInstance(c.id, { group, envFile, owner, egress });
      throw err instanceof KumoError
        ? err
        : startError(`could not prepare the sandbox: ${(err as Error).message}`);
    }
    const cfg = this.config(c.launch, c.limits, files, group, envFile, c.writable);
    const { nsenterPath } = this.probe.egressTools;
    const cmd = launchCommand({
      ...cfg,
      ...(owner && cfg.dropTo ? { dropTo: { ...cfg.dropTo, uid: owner.id, gid: owner.id } } : {}),
      ...(egress && nsenterPath ? { netns: { nsenterPath, path: egress.netnsPath } } : {}),
      mounts,
      ...(c.workTmpfs ? { workTmpfs: c.workTmpfs } : {}),
    });
    let released = false;
    return {
      command: cmd.command,
      args: cmd.args,
      // The launcher runs with kumo's rights: it gets no variables at all (see bwrap-command.ts).
      env: {},
      cwd: '/',
      classifyExit: async () => ((await group.oomKilled()) ? 'memory_limit' : undefined),
      violation: () => this.violation(group),
      cpuUsage: () => cpuUsageOf(group),
      give: (paths) => giveTree(paths, owner),
      // bwrap has read the environment long before the shim reports ready
      afterReady: () => rm(envFile, { force: true }),
      terminate: () => this.terminate(group),
      release: async () => {
        if (released) return;
        released = true;
        await this.releaseInstance(c.id, { group, envFile, owner, egress });
      },
    };
  }

  /** A host that cannot sandbox gets nothing prepared. */
  private refuseWithoutSandbox(): void {
    const problems = sandboxProblems(this.probe);
    if (problems.length) {
      throw new KumoError(
        'instance_failed_to_start',
        `the sandbox is unavailable on this host: ${problems.join('; ')}`,
      );
    }
  }

  async capabilities(): Promise<Capability[]> {
    return probeCapabilities(this.probe);
  }

  /** The bwrap options an instance would get (for `kumo doctor` and reviews); runs nothing. */
  describe(spec: InstanceSpec): string[] {
    const files = sandboxFilePaths(this.runDir);
    const cfg = this.config(
      spec.launch,
      this.resolveLimits(spec.limits),
      files,
      undefined,
      join(files.envDir, spec.id),
      [{ source: dirname(spec.socketPath), target: NEUTRAL.socketDir }],
    );
    return [cfg.bwrapPath, ...bwrapArgs(cfg)];
  }

  /** The cgroup of a running instance (for stats and tests), if it has one. */
  cgroupOf(instanceId: string): InstanceCgroup | undefined {
    return this.groups.get(instanceId);
  }

  /** Removes the cgroups that servers killed before they could clean up left behind; returns how many. */
  sweep(): Promise<number> {
    return this.cgroups.sweep();
  }

  /** Removes the parent cgroup folders once no instance is left (call at server shutdown). */
  async close(): Promise<void> {
    if (this.groups.size === 0) await this.cgroups.removeParents();
  }

  /** `spec.limits` with defaults, validated (a nonsense limit must not become "no limit"). */
  resolveLimits(limits: InstanceLimits): ResolvedLimits {
    const resolved: ResolvedLimits = {
      memoryMb: limits.memoryMb,
      network: limits.network,
      maxProcesses: limits.maxProcesses ?? this.defaults.maxProcesses,
      cpu: limits.cpu ?? this.defaults.cpu,
      tmpSizeMb: limits.tmpSizeMb ?? this.defaults.tmpSizeMb,
    };
    const positive = ['memoryMb', 'maxProcesses', 'cpu', 'tmpSizeMb'] as const;
    for (const key of positive) {
      const value = resolved[key];
      if (!Number.isFinite(value) || value <= 0) {
        throw startError(`limit ${key} must be a positive number (got ${value})`);
      }
    }
    if (limits.cpu !== undefined && this.cgroups.missing().includes('cpu')) {
      throw startError('the function sets a CPU limit but this host has no usable cpu cgroup controller');
    }
    return resolved;
  }

  /** The data that shapes one instance's sandbox. */
  private config(
    launch: InstanceSpec['launch'],
    limits: ResolvedLimits,
    files: SandboxFiles,
    group: InstanceCgroup | undefined,
    envFile: string,
    writable: Mount[],
  ): BwrapConfig {
    return {
      ...hostConfig(this.probe),
      network: limits.network,
      tmpSizeBytes: Math.round(limits.tmpSizeMb * 1024 * 1024),
      mounts: launch.mounts,
      writable,
      cwd: launch.cwd,
      command: launch.command,
      args: launch.args,
      procsFiles: group?.procsFiles ?? [],
      files,
      envFile,
    };
  }

  /**
   * Whether the instance hit its process limit (the cgroup counts refused forks) or filled its
   * /tmp or /dev/shm (read through a live process's view: after exit they are gone, and the
   * process driver falls back on the ENOSPC the runtime printed).
   */
  private async violation(group: InstanceCgroup): Promise<LimitViolation | undefined> {
    if (await group.processLimitHit()) return 'process_limit';
    const [pid] = await this.functionPids(group);
    if (pid === undefined) return undefined;
    for (const dir of ['tmp', 'dev/shm']) {
      const fs = await statfs(`/proc/${pid}/root/${dir}`).catch(() => undefined);
      if (fs && fs.bavail * fs.bsize < FULL_BELOW_BYTES) return 'tmp_limit';
    }
    return undefined;
  }

  /** The instance's processes that are not bwrap itself (the function and what it started). */
  private async functionPids(group: InstanceCgroup): Promise<number[]> {
    const pids = await group.members();
    const bwrap = this.probe.bwrapPath ? await realpath(this.probe.bwrapPath).catch(() => '') : '';
    const isBwrap = await Promise.all(
      pids.map(async (pid) => (await readlink(`/proc/${pid}/exe`).catch(() => '')) === bwrap),
    );
    return pids.filter((_, i) => !isBwrap[i]);
  }

  /**
   * SIGTERMs the function's processes, found through the cgroup: a signal to bwrap would not be
   * forwarded (bwrap dies and takes the function with it, with no chance to drain). Before the
   * function runs, there is only bwrap to signal, which is then the right thing to stop.
   */
  private async terminate(group: InstanceCgroup): Promise<void> {
    const functionPids = await this.functionPids(group);
    const pids = functionPids.length ? functionPids : await group.members();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // exited meanwhile
      }
    }
  }

  /** The socket folder is mounted read-write: it must be the instance's own, empty, real folder. */
  private async checkSocketDir(spec: InstanceSpec, socketDir: string): Promise<void> {
    if (!isAbsolute(socketDir) || posix.normalize(socketDir) === '/')
      throw startError(
        `the socket folder must be an absolute path other than / (got ${JSON.stringify(socketDir)})`,
      );
    // A caller mistake (say, the socket straight in /tmp) would otherwise hand the function a host folder.
    const st = await lstat(socketDir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw startError(`the socket folder ${socketDir} must exist and be a real folder`);
    }
    const entries = await readdir(socketDir);
    if (entries.some((e) => e !== basename(spec.socketPath))) {
      throw startError(`the socket folder ${socketDir} must be private to the instance (it is not empty)`);
    }
  }

  /** Refuses mounts that would widen the view. */
  private checkPaths(launch: InstanceSpec['launch']): void {
    const bad = launch.mounts.find(
      (m) =>
        !isAbsolute(m.source) ||
        !isAbsolute(m.target) ||
        posix.normalize(m.source) === '/' ||
        posix.normalize(m.target) === '/',
    );
    if (bad !== undefined || !isAbsolute(launch.cwd)) {
      throw startError(
        `sandbox paths must be absolute, and / cannot be mounted (got ${JSON.stringify(bad ?? launch.cwd)})`,
      );
    }
  }

  /** Gives each source the instance's host user cannot reach (a checkout under a 0700 folder) a staged copy it can. */
  private async checkMounts(launch: InstanceSpec['launch'], owner: HostId | undefined): Promise<Mount[]> {
    if (!owner) return launch.mounts; // bwrap runs as kumo's user, which owns these paths
    const out: Mount[] = [];
    for (const m of launch.mounts) {
      const problem = await accessProblem(m.source, owner.id, owner.id, 'read');
      if (!problem) out.push(m);
      else if (!this.mirror) throw startError(`the sandbox cannot see ${m.source}: ${problem}`);
      else out.push({ source: await this.mirror.sourceFor(m.source), target: m.target });
    }
    return out;
  }

  /** `network: true` never falls back to the host's network: without pasta (or root) it is refused. */
  private refuseNetworkWithoutEgress(limits: ResolvedLimits): void {
    const check = this.probe.checks.network;
    if (limits.network && !check.ok)
      throw startError(
        `the function asks for network: true, which needs a network namespace of its own: ${check.detail}${check.fix ? ` (fix: ${check.fix})` : ''}`,
      );
  }

  /** The instance's own network namespace, connected by pasta running as its host uid. */
  private async openNetwork(owner: HostId | undefined, dir: string | undefined): Promise<Egress> {
    const { pastaPath, nftPath, sleepPath } = this.probe.egressTools;
    if (!owner || !dir || !pastaPath || !nftPath || !sleepPath || !this.probe.setprivPath)
      throw startError('network: true needs kumo to run as root with pasta and nft installed');
    this.firewall ??= installFirewall(nftPath, this.probe.idRange).catch((err: unknown) => {
      this.firewall = undefined;
      throw err;
    });
    try {
      await this.firewall;
    } catch (err) {
      throw startError(
        `could not install the firewall rule that keeps network: true functions off this host's services: ${(err as Error).message}`,
      );
    }
    try {
      return await openEgress({ pastaPath, setprivPath: this.probe.setprivPath, sleepPath }, owner.id, dir);
    } catch (err) {
      throw startError((err as Error).message);
    }
  }

  /** The instance's own host id (kumo is root), claimed for its whole life. */
  private async claimId(): Promise<HostId | undefined> {
    try {
      return await this.ids?.claim();
    } catch (err) {
      throw startError(`could not give the instance a host uid of its own: ${(err as Error).message}`);
    }
  }

  /**
   * Makes the instance's host identity the owner of its socket folder (where the function creates
   * its socket) and of its own folders (`ownDirs`: the host channel) and what is directly in them,
   * each 0700: no other instance and no other local user can enter them or use their sockets.
   */
  private async handOver(socketDir: string, ownDirs: string[], owner: HostId | undefined): Promise<void> {
    if (!owner) return; // not root: these are kumo's own, 0700, and instances run as kumo's user
    for (const dir of [socketDir, ...ownDirs]) {
      const st = await lstat(dir).catch(() => undefined);
      if (!st?.isDirectory()) throw startError(`the instance folder ${dir} must exist and be a real folder`);
      for (const name of await readdir(dir)) await lchown(join(dir, name), owner.id, owner.id);
      await chown(dir, owner.id, owner.id);
      await chmod(dir, 0o700);
    }
    const problem = await accessProblem(socketDir, owner.id, owner.id, 'write');
    if (problem) throw startError(`the sandbox cannot use its socket folder: ${problem}`);
  }

  /** Writes the generated files once per sandbox (a failed attempt is retried next time). */
  private sandboxFiles(): Promise<SandboxFiles> {
    this.files ??= writeSandboxFiles(this.runDir).catch((err: unknown) => {
      this.files = undefined;
      throw startError(`could not write the sandbox files in ${this.runDir}: ${(err as Error).message}`);
    });
    return this.files;
  }

  /** Creates the instance's cgroup, with a start error that says what went wrong. */
  private async createGroup(
    id: string,
    limits: ResolvedLimits,
    memoryBytes: number,
  ): Promise<InstanceCgroup> {
    try {
      const group = await this.cgroups.create(id, {
        memoryBytes,
        maxProcesses: Math.round(limits.maxProcesses),
        cpu: limits.cpu,
      });
      this.groups.set(id, group);
      return group;
    } catch (err) {
      throw startError(`could not create the instance cgroup: ${(err as Error).message}`);
    }
  }

  /**
   * Removes the cgroup (killing stragglers) and the env file, whatever state they are in; the host
   * id is handed back last, once no process can hold it.
   */
  private async releaseInstance(
    id: string,
    held: { group?: InstanceCgroup; envFile: string; owner?: HostId; egress?: Egress },
  ): Promise<void> {
    try {
      await rm(held.envFile, { force: true });
      await held.group?.remove();
      await held.egress?.close();
      await held.owner?.release();
    } finally {
      this.groups.delete(id);
    }
  }
}

/** Makes each of `paths` and everything under it owned by `owner` (kumo is root), folders 0700. */
async function giveTree(paths: string[], owner: HostId | undefined): Promise<void> {
  if (!owner) return; // not root: these are kumo's own, and instances run as kumo's user
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p);
    await lchown(p, owner.id, owner.id);
    if (!st.isDirectory()) return;
    await chmod(p, 0o700);
    for (const name of await readdir(p)) await walk(join(p, name));
  };
  for (const p of paths) await walk(p);
}

/** How busy the processes of `group` have been (bwrap's own are asleep), and how often its quota ran out. */
async function cpuUsageOf(group: InstanceCgroup): Promise<CpuUsage> {
  const [busyMs, stat] = await Promise.all([
    group.members().then(processesBusyMs),
    group.read('cpu', 'cpu.stat').catch(() => ''),
  ]);
  return { busyMs, throttledPeriods: throttledPeriods(stat) };
}

/** An instance_failed_to_start error. */
function startError(message: string): KumoError {
  return new KumoError('instance_failed_to_start', message);
}
