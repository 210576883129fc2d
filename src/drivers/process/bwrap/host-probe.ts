/**
 * What this host offers the bubblewrap sandbox, found by trying rather than guessing: the probe
 * creates a real instance cgroup and starts a real sandbox (`true` under the full argv, seccomp
 * filter included). `kumo doctor` prints the result; the server refuses to start sandboxed
 * instances while `sandboxProblems` is not empty.
 */
import { execFile } from 'node:child_process';
import { access, constants, lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Capability } from '../../driver.ts';
import { launchCommand, envArgsData, type BwrapConfig, type RootEntry } from './bwrap-command.ts';
import { Cgroups, detectCgroupLayout, type CgroupLayout, type InstanceCgroup } from './cgroups.ts';
import { DEFAULT_ID_RANGE, rangeOverlaps, type IdRange } from './host-ids.ts';
import { writeSandboxFiles } from './sandbox-files.ts';
import { seccompSupportsArch } from './seccomp.ts';

const run = promisify(execFile);

/** Top-level system paths the runtime may need, shown read-only (or as their merged-/usr symlinks). */
const ROOTFS_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];

/** Where to look and what to use; defaults read the running host. */
export interface ProbeOptions {
  /** bwrap binary (default: first `bwrap` on PATH, then /usr/bin/bwrap). */
  bwrapPath?: string;
  /** setpriv binary, used to drop root (default: found on PATH). */
  setprivPath?: string;
  /** pasta binary, for `network: true` (default: found on PATH). */
  pastaPath?: string;
  /** Host ids sandboxed processes run as when kumo is root, one per instance or build (default DEFAULT_ID_RANGE). */
  idRange?: IdRange;
  /** Name of the cgroup folder that holds instance groups (default `kumo`). */
  cgroupName?: string;
  /** A delegated cgroup v2 folder to use as parent instead of `<mount>/<cgroupName>`. */
  cgroupV2Parent?: string;
}

/** One probed feature. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Everything the sandbox needs to know about the host, and whether each part works. */
export interface HostProbe {
  arch: string;
  runsAsRoot: boolean;
  /**
   * A host uid/gid the sandboxed processes run as: kumo's own when it is not root; when it is, the
   * first of `idRange` stands for all of them (to check what they can reach: none owns a file).
   */
  hostUid: number;
  hostGid: number;
  /** When kumo is root: the range each instance and build gets its own id from. */
  idRange: IdRange;
  bwrapPath: string | null;
  bwrapVersion: string | null;
  /** bwrap options that older versions lack. */
  bwrapFeatures: { disableUserns: boolean; size: boolean; perms: boolean };
  setprivPath: string | null;
  /** What `network: true` needs (egress.ts): pasta, nsenter, sleep for its placeholder, nft for the firewall rule. */
  egressTools: {
    pastaPath: string | null;
    nsenterPath: string | null;
    sleepPath: string | null;
    nftPath: string | null;
  };
  rootfs: RootEntry[];
  cgroups: CgroupLayout;
  checks: {
    arch: ProbeResult;
    bwrap: ProbeResult;
    setpriv: ProbeResult;
    /** A host uid per instance and build, from a range no user or subordinate range overlaps. */
    tenantIds: ProbeResult;
    userNamespaces: ProbeResult;
    seccomp: ProbeResult;
    cgroupMemory: ProbeResult;
    cgroupPids: ProbeResult;
    cgroupCpu: ProbeResult;
    /** Not required (only `network: true` functions need it): a network namespace per instance. */
    network: ProbeResult;
    /** Not required: how fast a new instance joins its cgroups (see fastCgroupJoinCheck). */
    fastCgroupJoin: ProbeResult;
    /** The full sandbox (namespaces, mounts, seccomp, cgroups) started `true` successfully. */
    sandbox: ProbeResult;
  };
}

/** Probes the host; takes a few tens of milliseconds (it starts one real sandbox). */
export async function probeHost(options: ProbeOptions = {}): Promise<HostProbe> {
  const runsAsRoot = process.getuid?.() === 0;
  const idRange = options.idRange ?? DEFAULT_ID_RANGE;
  const hostUid = runsAsRoot ? idRange.base : (process.getuid?.() ?? 0);
  const hostGid = runsAsRoot ? idRange.base : (process.getgid?.() ?? 0);
  const bwrapPath = await executableOrNull(options.bwrapPath ?? (await findExecutable('bwrap')));
  const setprivPath = await executableOrNull(options.setprivPath ?? (await findExecutable('setpriv')));
  const help = bwrapPath ? await bwrapHelp(bwrapPath) : { version: null, text: '' };
  const layoutOptions = {
    ...(options.cgroupName === undefined ? {} : { name: options.cgroupName }),
    ...(options.cgroupV2Parent === undefined ? {} : { v2Parent: options.cgroupV2Parent }),
  };
  const cgroups = await detectCgroupLayout(layoutOptions);
  const egressTools = {
    pastaPath: await executableOrNull(options.pastaPath ?? (await findExecutable('pasta'))),
    nsenterPath: await findExecutable('nsenter'),
    sleepPath: await findExecutable('sleep'),
    nftPath: await findExecutable('nft'),
  };
  const probe: HostProbe = {
    arch: process.arch,
    runsAsRoot,
    hostUid,
    hostGid,
    idRange,
    bwrapPath,
    bwrapVersion: help.version,
    bwrapFeatures: {
      disableUserns: help.text.includes('--disable-userns'),
      size: help.text.includes('--size'),
      perms: help.text.includes('--perms'),
    },
    setprivPath,
    egressTools,
    rootfs: await rootfsEntries(),
    cgroups,
    checks: {
      arch: seccompSupportsArch(process.arch)
        ? { ok: true, detail: `seccomp filter for ${process.arch}` }
        : { ok: false, detail: `no seccomp filter for ${process.arch} (only x64 and arm64)` },
      bwrap: bwrapCheck(bwrapPath, help),
      setpriv: setprivCheck(runsAsRoot, setprivPath),
      tenantIds: await tenantIdsCheck(runsAsRoot, idRange),
      userNamespaces: await userNamespaceCheck(),
      seccomp: await seccompCheck(),
      cgroupMemory: controllerCheck(cgroups, 'memory'),
      cgroupPids: controllerCheck(cgroups, 'pids'),
      cgroupCpu: controllerCheck(cgroups, 'cpu'),
      network: networkCheck(runsAsRoot, egressTools),
      fastCgroupJoin: await fastCgroupJoinCheck(),
      sandbox: { ok: false, detail: 'not tried' },
    },
  };
  await trySandbox(probe);
  return probe;
}

/** The reasons the sandbox cannot be built here; empty means sandboxed instances can start. */
export function sandboxProblems(probe: HostProbe): string[] {
  const { checks } = probe;
  const required = [
    checks.arch,
    checks.bwrap,
    checks.setpriv,
    checks.tenantIds,
    checks.seccomp,
    checks.cgroupMemory,
    checks.cgroupPids,
    checks.sandbox,
  ];
  return required.filter((c) => !c.ok).map((c) => (c.fix ? `${c.detail} (fix: ${c.fix})` : c.detail));
}

/** Whether sandboxed instances can start on this host. */
export function canSandbox(probe: HostProbe): boolean {
  return sandboxProblems(probe).length === 0;
}

/** One Capability per feature, for `kumo doctor`. */
export function probeCapabilities(probe: HostProbe): Capability[] {
  const c = probe.checks;
  const entries: [string, ProbeResult][] = [
    ['sandbox: bubblewrap', c.bwrap],
    ['sandbox: unprivileged host user', c.setpriv],
    ['sandbox: a host uid per instance', c.tenantIds],
    ['sandbox: user namespaces', c.userNamespaces],
    ['sandbox: seccomp filter', c.seccomp.ok ? c.arch : c.seccomp],
    ['limit: memory (cgroup)', c.cgroupMemory],
    ['limit: processes (cgroup)', c.cgroupPids],
    ['limit: cpu (cgroup)', c.cgroupCpu],
    ['limit: /tmp size', tmpSizeCheck(probe)],
    ['network: a namespace per instance (network: true)', c.network],
    ['speed: fast cgroup joins', c.fastCgroupJoin],
    ['sandbox: end-to-end trial', c.sandbox],
  ];
  return entries.map(([feature, r]) => ({
    feature,
    available: r.ok,
    detail: r.detail,
    ...(r.ok || !r.fix ? {} : { fix: r.fix }),
  }));
}

/** First executable called `name` on PATH or in the usual system folders. */
async function findExecutable(name: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/bin', '/usr/sbin'];
  for (const dir of dirs) {
    const candidate = await executableOrNull(join(dir, name));
    if (candidate) return candidate;
  }
  return null;
}

/** `path` if it names an executable file, else null (a configured path may be wrong). */
async function executableOrNull(path: string | null): Promise<string | null> {
  if (path === null) return null;
  return access(path, constants.X_OK).then(
    () => path,
    () => null,
  );
}

/** bwrap's version and help text (the help lists the options this build supports). */
async function bwrapHelp(path: string): Promise<{ version: string | null; text: string }> {
  const version = await run(path, ['--version']).then(
    (r) => r.stdout.trim().replace(/^bubblewrap\s*/, ''),
    () => null,
  );
  const text = await run(path, ['--help']).then(
    (r) => r.stdout + r.stderr,
    () => '',
  );
  return { version, text };
}

/** bwrap present with the options the sandbox relies on. */
function bwrapCheck(path: string | null, help: { version: string | null; text: string }): ProbeResult {
  const fix = 'apt-get install -y bubblewrap';
  if (!path) return { ok: false, detail: 'bwrap is not installed', fix };
  if (!help.version) return { ok: false, detail: `${path} does not run`, fix };
  if (!help.text.includes('--size') || !help.text.includes('--perms')) {
    return { ok: false, detail: `bwrap ${help.version} lacks --size/--perms (need 0.5 or later)`, fix };
  }
  return { ok: true, detail: `bwrap ${help.version} at ${path}` };
}

/** When kumo is root, setpriv drops to the unprivileged host user before bwrap runs. */
function setprivCheck(runsAsRoot: boolean, path: string | null): ProbeResult {
  if (!runsAsRoot) return { ok: true, detail: 'kumo is not root: bwrap runs as kumo’s own user' };
  if (path) return { ok: true, detail: `${path} drops root before bwrap` };
  return {
    ok: false,
    detail: 'setpriv is missing (needed to drop root)',
    fix: 'apt-get install -y util-linux',
  };
}

/**
 * As root, each instance and build runs as its own uid of the range, which must be nobody else's.
 * Not root: every instance runs as kumo's own user (nothing to separate them with on the host).
 */
async function tenantIdsCheck(runsAsRoot: boolean, range: IdRange): Promise<ProbeResult> {
  const span = `${range.base}-${range.base + range.count - 1}`;
  if (!runsAsRoot)
    return {
      ok: true,
      detail: 'kumo is not root: instances run as kumo’s own user, apart only by namespaces',
    };
  const overlaps = await rangeOverlaps(range);
  if (overlaps.length)
    return {
      ok: false,
      detail: `the sandbox id range ${span} is in use: ${overlaps.slice(0, 3).join('; ')}`,
      fix: 'choose a free range with kumo up --sandbox-ids BASE:COUNT (or KUMO_SANDBOX_IDS)',
    };
  return { ok: true, detail: `each instance and build runs as its own uid/gid from ${span}` };
}

/** `network: true` gets its own namespace through pasta, and a firewall rule keeps it off the host's services. */
function networkCheck(runsAsRoot: boolean, tools: HostProbe['egressTools']): ProbeResult {
  const fix = 'apt-get install -y passt nftables util-linux';
  if (!runsAsRoot)
    return {
      ok: false,
      detail: 'network: true needs kumo to run as root (to enter the namespace and set the firewall rule)',
      fix: 'run kumo as root',
    };
  const missing = [
    ['pasta (package passt)', tools.pastaPath],
    ['nft (package nftables)', tools.nftPath],
    ['nsenter (package util-linux)', tools.nsenterPath],
    ['sleep (package coreutils)', tools.sleepPath],
  ].filter(([, path]) => !path);
  if (missing.length)
    return {
      ok: false,
      detail: `network: true functions cannot start: ${missing.map(([name]) => name).join(', ')} not installed`,
      fix,
    };
  return {
    ok: true,
    detail: `pasta at ${tools.pastaPath}: egress only, no host loopback, no port forwarding; nftables keeps sandbox uids off the host's addresses`,
  };
}

/** Kernel settings that allow or forbid unprivileged user namespaces. */
async function userNamespaceCheck(): Promise<ProbeResult> {
  const read = (file: string) =>
    readFile(file, 'utf8').then(
      (s) => s.trim(),
      () => undefined,
    );
  const max = await read('/proc/sys/user/max_user_namespaces');
  if (max === '0') {
    return {
      ok: false,
      detail: 'user.max_user_namespaces is 0',
      fix: 'sysctl -w user.max_user_namespaces=15000',
    };
  }
  if ((await read('/proc/sys/kernel/unprivileged_userns_clone')) === '0') {
    return {
      ok: false,
      detail: 'kernel.unprivileged_userns_clone is 0',
      fix: 'sysctl -w kernel.unprivileged_userns_clone=1',
    };
  }
  if ((await read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')) === '1') {
    return {
      ok: false,
      detail: 'AppArmor restricts unprivileged user namespaces',
      fix: 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile for bwrap)',
    };
  }
  if (max === undefined) return { ok: false, detail: 'the kernel has no user namespaces' };
  return { ok: true, detail: `unprivileged user namespaces allowed (max ${max})` };
}

/** The kernel supports seccomp filters with the actions the program uses. */
async function seccompCheck(): Promise<ProbeResult> {
  const actions = await readFile('/proc/sys/kernel/seccomp/actions_avail', 'utf8').catch(() => '');
  const missing = ['kill_process', 'errno', 'allow'].filter((a) => !actions.split(/\s+/).includes(a));
  if (!actions)
    return { ok: false, detail: 'the kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER)' };
  if (missing.length)
    return { ok: false, detail: `seccomp lacks actions: ${missing.join(', ')} (kernel too old)` };
  return { ok: true, detail: 'seccomp filters with kill_process and errno' };
}

/** Whether a controller is mounted where kumo can use it (writability is proven by trySandbox). */
function controllerCheck(layout: CgroupLayout, controller: 'memory' | 'pids' | 'cpu'): ProbeResult {
  const h = layout.hierarchies.find((x) => x.controllers.includes(controller));
  if (!h) {
    return {
      ok: false,
      detail: layout.unavailable[controller] ?? `no ${controller} controller`,
      fix: 'enable the controller (cgroup_enable= on the kernel command line, or Delegate= for the kumo unit)',
    };
  }
  return { ok: true, detail: `cgroup v${h.version} under ${h.parent}` };
}

/**
 * The first process to join a new cgroup waits for an RCU grace period (the kernel's
 * cgroup_threadgroup_rwsem), 5-20 ms measured on a 2-core VM, on every cold start; with expedited
 * grace periods the join takes about 0.2 ms. scripts/setup-host.sh turns them on when run as root.
 */
async function fastCgroupJoinCheck(): Promise<ProbeResult> {
  const value = (await readFile('/sys/kernel/rcu_expedited', 'utf8').catch(() => '')).trim();
  if (value === '')
    return { ok: true, detail: 'no /sys/kernel/rcu_expedited on this kernel: nothing to tune' };
  if (value !== '0')
    return {
      ok: true,
      detail: 'expedited RCU grace periods: a new instance joins its cgroups in well under 1 ms',
    };
  return {
    ok: false,
    detail: 'each cold start waits 5-20 ms for an RCU grace period to join its new cgroups',
    fix: 'echo 1 > /sys/kernel/rcu_expedited (scripts/setup-host.sh does it as root)',
  };
}

/** The /tmp limit needs bwrap's --size; without it a tmpfs would be bounded only by the memory limit. */
function tmpSizeCheck(probe: HostProbe): ProbeResult {
  if (probe.bwrapFeatures.size)
    return { ok: true, detail: 'private tmpfs /tmp with a size limit (bwrap --size)' };
  return {
    ok: false,
    detail: 'bwrap has no --size: /tmp is bounded by the memory limit only',
    fix: 'upgrade bubblewrap',
  };
}

/** How each top-level system path exists here; missing ones are left out of the view. */
async function rootfsEntries(): Promise<RootEntry[]> {
  const entries: RootEntry[] = [];
  for (const path of ROOTFS_PATHS) {
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSymbolicLink()) entries.push({ path, kind: 'symlink', target: await readlink(path) });
    else if (st?.isDirectory()) entries.push({ path, kind: 'dir' });
  }
  return entries;
}

/** Creates a real instance cgroup and runs `true` in a full sandbox; records what failed. */
async function trySandbox(probe: HostProbe): Promise<void> {
  const { checks } = probe;
  if (!probe.bwrapPath || !checks.bwrap.ok || !checks.setpriv.ok) {
    checks.sandbox = { ok: false, detail: 'not tried: bwrap or setpriv is missing' };
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'kumo-probe-'));
  const cgroups = new Cgroups(probe.cgroups);
  let group: InstanceCgroup | undefined;
  try {
    const id = `probe-${process.pid}-${Date.now().toString(36)}`;
    if (cgroups.missing().filter((c) => c !== 'cpu').length === 0) {
      try {
        group = await cgroups.create(id, { memoryBytes: 64 << 20, maxProcesses: 16, cpu: 0.5 });
      } catch (err) {
        const detail = `cannot create an instance cgroup: ${(err as Error).message}`;
        for (const c of ['cgroupMemory', 'cgroupPids', 'cgroupCpu'] as const) {
          if (checks[c].ok)
            checks[c] = { ok: false, detail, fix: 'run kumo as root or delegate a cgroup to it' };
        }
      }
    }
    const files = await writeSandboxFiles(join(dir, 'run'));
    const envFile = join(files.envDir, id);
    await writeFile(envFile, envArgsData({}), { mode: 0o600 });
    const cfg: BwrapConfig = {
      ...hostConfig(probe),
      network: false,
      tmpSizeBytes: 1 << 20,
      mounts: [],
      writable: [],
      cwd: '/',
      command: '/bin/sh',
      args: ['-c', 'exit 0'],
      procsFiles: group?.procsFiles ?? [],
      files,
      envFile,
    };
    const cmd = launchCommand(cfg);
    await run(cmd.command, cmd.args, { env: {}, cwd: '/', timeout: 10_000 });
    checks.sandbox = {
      ok: true,
      detail: 'started a process with every namespace, the seccomp filter and cgroups',
    };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr ?? '').trim() || e.message;
    checks.sandbox = { ok: false, detail: `bwrap failed: ${why}`, ...sandboxFix(why, probe) };
  } finally {
    await group?.remove().catch(() => {});
    await cgroups.removeParents().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** The host-dependent part of every sandbox's configuration. */
export function hostConfig(
  probe: HostProbe,
): Pick<BwrapConfig, 'bwrapPath' | 'dropTo' | 'disableUserns' | 'rootfs'> {
  if (!probe.bwrapPath) throw new Error('bwrap is not installed');
  return {
    bwrapPath: probe.bwrapPath,
    ...(probe.runsAsRoot && probe.setprivPath
      ? { dropTo: { setprivPath: probe.setprivPath, uid: probe.hostUid, gid: probe.hostGid } }
      : {}),
    disableUserns: probe.bwrapFeatures.disableUserns,
    rootfs: probe.rootfs,
  };
}

/** A likely fix for a failed trial run, from bwrap's message. */
function sandboxFix(message: string, probe: HostProbe): { fix?: string } {
  if (!probe.checks.userNamespaces.ok && probe.checks.userNamespaces.fix) {
    return { fix: probe.checks.userNamespaces.fix };
  }
  if (/setting up uid map|No permission to create new namespace|Operation not permitted/i.test(message)) {
    return { fix: 'allow unprivileged user namespaces (sysctl -w kernel.unprivileged_userns_clone=1)' };
  }
  return {};
}
