/**
 * Per-instance control groups: memory (without swap), process count and CPU quota, on cgroup v1,
 * v2 or the hybrid layout (v1 controllers plus an empty cgroup2 at /sys/fs/cgroup/unified). Each
 * controller is looked up where the kernel actually mounted it, so a hybrid host uses v1 for the
 * controllers bound there. Instance groups live under one parent per hierarchy:
 *
 * - v1: `<mount>/<kumo's own cgroup>/<name>/<instance>`, nested under the group kumo runs in, so
 *   whatever limits kumo itself (a container, a systemd unit) also bounds its instances;
 * - v2: `<mount>/<name>/<instance>`, beside kumo rather than under it, because v2 forbids
 *   enabling controllers below a group that has processes of its own (kumo's). An operator can
 *   point `parent` at a delegated, empty group instead.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../leftovers.ts';

/** The controllers kumo uses. */
export type CgroupController = 'memory' | 'pids' | 'cpu';

/** Every controller kumo uses, in the order they are set up. */
export const CGROUP_CONTROLLERS: readonly CgroupController[] = ['memory', 'pids', 'cpu'];

/** One mounted hierarchy and the folder under which instance groups are created in it. */
export interface CgroupHierarchy {
  version: 1 | 2;
  mountPoint: string;
  /** Folder that holds the instance groups (created on first use). */
  parent: string;
  controllers: CgroupController[];
}

/** Where each controller lives on this host, and why the missing ones are missing. */
export interface CgroupLayout {
  hierarchies: CgroupHierarchy[];
  unavailable: Partial<Record<CgroupController, string>>;
}

/** How to find the layout; every field has a default that reads the running host. */
export interface CgroupLayoutOptions {
  /** Name of the parent folder of instance groups (default `kumo`). */
  name?: string;
  /** Absolute path of a delegated cgroup v2 folder to use as parent instead of `<mount>/<name>`. */
  v2Parent?: string;
}

/** The limits written into an instance's group. */
export interface CgroupLimits {
  memoryBytes: number;
  maxProcesses: number;
  /** CPU cores (fractional), enforced as a CFS quota. */
  cpu: number;
}

/** CFS period used for the CPU quota (the kernel default). */
const CPU_PERIOD_US = 100_000;
/** How long `remove` waits for the kernel to empty a group before giving up. */
const REMOVE_TIMEOUT_MS = 3000;

/** Reads /proc/self/mountinfo and /proc/self/cgroup and says where each controller is. */
export async function detectCgroupLayout(options: CgroupLayoutOptions = {}): Promise<CgroupLayout> {
  const [mountinfo, selfCgroup] = await Promise.all([
    readFile('/proc/self/mountinfo', 'utf8'),
    readFile('/proc/self/cgroup', 'utf8').catch(() => ''),
  ]);
  const v2Mount = parseMountinfo(mountinfo).find((m) => m.fsType === 'cgroup2');
  const v2Controllers = v2Mount
    ? (await readFile(join(v2Mount.mountPoint, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/)
    : [];
  return layoutFrom(mountinfo, selfCgroup, v2Controllers, options);
}

/** One line of /proc/self/mountinfo, reduced to what cgroup lookup needs. */
interface Mount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses /proc/self/mountinfo (fields are space-separated, spaces inside paths escaped as \040). */
export function parseMountinfo(text: string): Mount[] {
  const unescape = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    mounts.push({
      root: unescape(fields[3] ?? ''),
      mountPoint: unescape(fields[4] ?? ''),
      fsType: fields[dash + 1] ?? '',
      superOptions: (fields[dash + 3] ?? '').split(','),
    });
  }
  return mounts;
}

/** The layout for given /proc contents (pure, so every host shape can be tested here). */
export function layoutFrom(
  mountinfo: string,
  selfCgroup: string,
  v2Controllers: string[],
  options: CgroupLayoutOptions = {},
): CgroupLayout {
  const name = options.name ?? 'kumo';
  const mounts = parseMountinfo(mountinfo);
  const own = parseSelfCgroup(selfCgroup);
  const hierarchies: CgroupHierarchy[] = [];
  const unavailable: CgroupLayout['unavailable'] = {};
  const v2Wanted: CgroupController[] = [];
  for (const controller of CGROUP_CONTROLLERS) {
    const v1 = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    if (v1) {
      const ownPath = own.v1.find((g) => g.controllers.includes(controller))?.path;
      const relative = ownPath === undefined ? undefined : relativeCgroupPath(v1.root, ownPath);
      if (relative === undefined) {
        unavailable[controller] = `cannot place kumo's own ${controller} cgroup inside ${v1.mountPoint}`;
        continue;
      }
      const existing = hierarchies.find((h) => h.mountPoint === v1.mountPoint);
      if (existing) existing.controllers.push(controller);
      else {
        const parent = posix.join(v1.mountPoint, relative, name);
        hierarchies.push({ version: 1, mountPoint: v1.mountPoint, parent, controllers: [controller] });
      }
    } else if (v2Controllers.includes(controller)) v2Wanted.push(controller);
    else unavailable[controller] = `the ${controller} controller is not mounted (neither cgroup v1 nor v2)`;
  }
  const v2 = mounts.find((m) => m.fsType === 'cgroup2');
  if (v2 && v2Wanted.length) {
    const parent = options.v2Parent ?? posix.join(v2.mountPoint, name);
    hierarchies.push({ version: 2, mountPoint: v2.mountPoint, parent, controllers: v2Wanted });
  }
  return { hierarchies, unavailable };
}

/** kumo's own groups from /proc/self/cgroup (`id:controllers:path` lines; v2 is `0::path`). */
function parseSelfCgroup(text: string): { v1: { controllers: string[]; path: string }[]; v2?: string } {
  const v1: { controllers: string[]; path: string }[] = [];
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllers = '', path = '/'] = match;
    if (id === '0' && controllers === '') v2 = path;
    else v1.push({ controllers: controllers.split(','), path });
  }
  return v2 === undefined ? { v1 } : { v1, v2 };
}

/** `path` relative to a mount's root, or undefined when the group is outside what is mounted. */
function relativeCgroupPath(mountRoot: string, path: string): string | undefined {
  if (mountRoot === '/') return path;
  if (path === mountRoot) return '/';
  return path.startsWith(`${mountRoot}/`) ? path.slice(mountRoot.length) : undefined;
}

/** Creates and removes instance groups under the parents of a layout. */
export class Cgroups {
  readonly layout: CgroupLayout;
  private parentsReady: Promise<void> | undefined;

  constructor(layout: CgroupLayout) {
    this.layout = layout;
  }

  /** The controllers this host does not offer. */
  missing(): CgroupController[] {
    return CGROUP_CONTROLLERS.filter((c) => !this.layout.hierarchies.some((h) => h.controllers.includes(c)));
  }

  /** Creates the group of instance `id` with `limits`; the caller enrols processes via `procsFiles`. */
  async create(id: string, limits: CgroupLimits): Promise<InstanceCgroup> {
    if (!/^[A-Za-z0-9_.-]+$/.test(id) || id.startsWith('.')) {
      throw new Error(`cgroup: unsafe instance id ${id}`);
    }
    // Named after this server's pid, so a later server can tell a dead server's leftovers (sweep).
    const name = `k${process.pid}.${id}`;
    for (let attempt = 1; ; attempt++) {
      await this.parents();
      const group = new InstanceCgroup(
        this.layout.hierarchies.map((h) => ({ ...h, dir: posix.join(h.parent, name) })),
      );
      try {
        await group.setUp(limits);
        return group;
      } catch (err) {
        await group.remove().catch(() => {});
        // Another kumo server on this host removed the shared parent as it stopped, when it
        // happened to be empty: make it again, once.
        if (attempt > 1 || !isCode(err, 'ENOENT')) throw err;
        this.parentsReady = undefined;
      }
    }
  }

  /** Makes the parent folders once (again after a failure, e.g. once the operator fixed delegation). */
  private async parents(): Promise<void> {
    this.parentsReady ??= this.ensureParents();
    try {
      await this.parentsReady;
    } catch (err) {
      this.parentsReady = undefined;
      throw err;
    }
  }

  /**
   * Removes the instance groups of servers that are gone (killed before they could clean up),
   * and the empty groups named before groups carried their server's pid. Returns how many.
   */
  async sweep(): Promise<number> {
    let removed = 0;
    for (const h of this.layout.hierarchies) {
      const entries = await readdir(h.parent, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const dir = posix.join(h.parent, entry.name);
        const owner = /^k(\d+)\./.exec(entry.name);
        if (owner) {
          const pid = Number(owner[1]);
          if (pid === process.pid || processAlive(pid)) continue;
        } else if ((await readFile(posix.join(dir, 'cgroup.procs'), 'utf8').catch(() => 'busy')).trim()) {
          continue;
        }
        const removedOne = await new InstanceCgroup([{ ...h, dir }]).remove().then(
          () => true,
          () => false,
        );
        if (removedOne) removed++;
      }
    }
    return removed;
  }

  /** Removes the parent folders if no instance group is left in them (at shutdown). */
  async removeParents(): Promise<void> {
    for (const h of this.layout.hierarchies) {
      try {
        await rmdir(h.parent);
      } catch (err) {
        if (!isCode(err, 'ENOENT', 'EBUSY', 'ENOTEMPTY')) throw err;
      }
    }
    this.parentsReady = undefined;
  }

  /** Creates each parent and, on v2, enables the controllers from the mount root down to it. */
  private async ensureParents(): Promise<void> {
    for (const h of this.layout.hierarchies) {
      await mkdir(h.parent, { recursive: true });
      if (h.version !== 2) continue;
      const enable = h.controllers.map((c) => `+${c}`).join(' ');
      const chain = posix.relative(h.mountPoint, h.parent).split('/').filter(Boolean);
      let dir = h.mountPoint;
      for (const part of ['', ...chain]) {
        dir = posix.join(dir, part);
        try {
          await writeFile(posix.join(dir, 'cgroup.subtree_control'), enable);
        } catch (err) {
          throw new Error(
            `cgroup v2: cannot enable ${enable} in ${dir} (${(err as Error).message}); ` +
              'delegate an empty cgroup to kumo and pass it as the cgroup parent',
            { cause: err },
          );
        }
      }
    }
  }
}

/** One hierarchy's folder for one instance. */
interface InstanceDir extends CgroupHierarchy {
  dir: string;
}

/** The groups of one instance, one folder per hierarchy. */
export class InstanceCgroup {
  readonly dirs: readonly InstanceDir[];

  constructor(dirs: InstanceDir[]) {
    this.dirs = dirs;
  }

  /** The `cgroup.procs` files a process writes its pid into to join every group of the instance. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => posix.join(d.dir, 'cgroup.procs'));
  }

  /** Creates the folders and writes the limits. */
  async setUp(limits: CgroupLimits): Promise<void> {
    for (const d of this.dirs) {
      await mkdir(d.dir);
      for (const [file, value] of limitFiles(d, limits)) await writeFile(posix.join(d.dir, file), value);
      for (const [file, value] of optionalLimitFiles(d, limits)) {
        await writeFile(posix.join(d.dir, file), value).catch((err: unknown) => {
          // no memsw / swap.max: swap is not accounted, so there is none to limit; no burst file: an older kernel
          if (!isCode(err, 'ENOENT')) throw err;
        });
      }
      if (d.version === 1 && d.controllers.includes('memory')) {
        // A hint only (memsw above is the limit): reclaim page cache before swapping.
        await writeFile(posix.join(d.dir, 'memory.swappiness'), '0').catch(() => {});
      }
    }
  }

  /** Whether the kernel OOM-killed a process of this instance (the memory limit was hit). */
  async oomKilled(): Promise<boolean> {
    const memory = this.dirs.find((d) => d.controllers.includes('memory'));
    if (!memory) return false;
    const file = memory.version === 2 ? 'memory.events' : 'memory.oom_control';
    const text = await readFile(posix.join(memory.dir, file), 'utf8').catch(() => '');
    const kills = /^oom_kill (\d+)$/m.exec(text);
    if (kills) return Number(kills[1]) > 0;
    // kernels before 4.13 have no v1 oom_kill counter: a hit limit is the best evidence left
    const failcnt = await readFile(posix.join(memory.dir, 'memory.failcnt'), 'utf8').catch(() => '0');
    return Number(failcnt.trim()) > 0;
  }

  /** Whether a fork was refused by the process limit (`max` in pids.events, v1 and v2). */
  async processLimitHit(): Promise<boolean> {
    const d = this.dirs.find((x) => x.controllers.includes('pids'));
    if (!d) return false;
    const text = await readFile(posix.join(d.dir, 'pids.events'), 'utf8').catch(() => '');
    return Number(/^max (\d+)$/m.exec(text)?.[1] ?? 0) > 0;
  }

  /** Host pids of every process in the instance (each hierarchy holds them all; the first is read). */
  async members(): Promise<number[]> {
    const first = this.dirs[0];
    if (!first) return [];
    const procs = await readFile(posix.join(first.dir, 'cgroup.procs'), 'utf8').catch(() => '');
    return procs.split('\n').filter(Boolean).map(Number);
  }

  /** Reads one control file of the hierarchy holding `controller` (for stats and tests). */
  async read(controller: CgroupController, file: string): Promise<string> {
    const d = this.dirs.find((x) => x.controllers.includes(controller));
    if (!d) throw new Error(`cgroup: no ${controller} controller`);
    return readFile(posix.join(d.dir, file), 'utf8');
  }

  /** Kills whatever is left in the groups and removes them, retrying while the kernel drains them. */
  async remove(): Promise<void> {
    const deadline = Date.now() + REMOVE_TIMEOUT_MS;
    let pending = [...this.dirs];
    while (pending.length) {
      const still: InstanceDir[] = [];
      for (const d of pending) {
        await killMembers(d);
        try {
          await rmdir(d.dir);
        } catch (err) {
          if (isCode(err, 'ENOENT')) continue;
          if (!isCode(err, 'EBUSY') || Date.now() > deadline) throw err;
          still.push(d);
        }
      }
      pending = still;
      if (pending.length) await sleep(10);
    }
  }
}

/** The limit files of one hierarchy for the controllers it holds. */
function limitFiles(d: InstanceDir, limits: CgroupLimits): [string, string][] {
  const quota = cpuQuotaUs(limits);
  const files: [string, string][] = [];
  const has = (c: CgroupController) => d.controllers.includes(c);
  if (d.version === 2) {
    if (has('memory')) files.push(['memory.max', String(limits.memoryBytes)], ['memory.oom.group', '1']);
    if (has('pids')) files.push(['pids.max', String(limits.maxProcesses)]);
    if (has('cpu')) files.push(['cpu.max', `${quota} ${CPU_PERIOD_US}`]);
    return files;
  }
  if (has('memory')) files.push(['memory.limit_in_bytes', String(limits.memoryBytes)]);
  if (has('pids')) files.push(['pids.max', String(limits.maxProcesses)]);
  if (has('cpu')) {
    files.push(
      ['cpu.cfs_period_us', String(CPU_PERIOD_US)],
      ['cpu.cfs_quota_us', String(quota)],
      ['cpu.shares', String(Math.max(2, Math.round(1024 * limits.cpu)))],
    );
  }
  return files;
}

/**
 * Limits only some kernels have, so a missing file is fine: swap (only when the kernel accounts
 * it) and CPU burst (Linux 5.14+). The burst lets an instance spend up to one more period's
 * quota at once out of quota it left unused, and a new group starts with it: Node's start-up
 * compiles on several threads at once and, without it, was throttled for 30-60 ms of every cold
 * start under a 1-CPU quota. The average over time stays at the limit.
 */
function optionalLimitFiles(d: InstanceDir, limits: CgroupLimits): [string, string][] {
  const files: [string, string][] = [];
  const has = (c: CgroupController) => d.controllers.includes(c);
  const burst = String(cpuQuotaUs(limits));
  if (d.version === 2) {
    if (has('memory')) files.push(['memory.swap.max', '0']);
    if (has('cpu')) files.push(['cpu.max.burst', burst]);
    return files;
  }
  // memsw is memory+swap, so setting it to the memory limit leaves no room for swap
  if (has('memory')) files.push(['memory.memsw.limit_in_bytes', String(limits.memoryBytes)]);
  if (has('cpu')) files.push(['cpu.cfs_burst_us', burst]);
  return files;
}

/** The CPU time an instance may use per period, in microseconds. */
function cpuQuotaUs(limits: CgroupLimits): number {
  return Math.max(1000, Math.round(limits.cpu * CPU_PERIOD_US));
}

/** SIGKILLs every process in a group (v2 `cgroup.kill` when the kernel has it: race-free). */
async function killMembers(d: InstanceDir): Promise<void> {
  if (d.version === 2) {
    const done = await writeFile(posix.join(d.dir, 'cgroup.kill'), '1').then(
      () => true,
      () => false,
    );
    if (done) return;
  }
  const procs = await readFile(posix.join(d.dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const pid of procs.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // exited between the read and the kill
    }
  }
}

/** Whether `err` is a Node system error with one of `codes`. */
function isCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as { code?: string }).code ?? '');
}
