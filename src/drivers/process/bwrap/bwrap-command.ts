/**
 * The command line of one sandboxed instance. Pure: it turns plain data into argv, so the exact
 * sandbox shape is reviewable in tests and in `kumo doctor` without running anything.
 *
 * The chain is `sh (launcher) → setpriv → bwrap → runtime`:
 * 1. The launcher, still kumo's user, writes its own pid into the instance's `cgroup.procs` in
 *    every hierarchy before doing anything else, so the first instruction of everything that
 *    follows already runs under the limits (no window where a fork escapes, as there would be if
 *    kumo moved the pid after spawn). It then opens the generated files as fds 4-8 (still with
 *    kumo's rights, so the run folder stays private). kumo deletes the one-shot environment file
 *    once the instance is ready (the launcher does not fork an `rm`: that cost a few ms of every
 *    cold start; the file is in kumo's private run folder meanwhile).
 * 2. setpriv (only when kumo is root) drops to an unprivileged host uid/gid with no groups, no
 *    capabilities, an empty bounding set and no_new_privs, so bubblewrap itself runs
 *    unprivileged and the function's uid maps to that host uid, never to root.
 * 3. bwrap builds the namespaces and the filesystem view, reads the environment from fd 4
 *    (`--args`: the values never appear in the host's world-readable /proc/PID/cmdline), loads
 *    the seccomp filter from fd 5 and execs the runtime.
 * The launcher's own environment is empty: the function's variables (which could name an
 * LD_PRELOAD) must never reach a process running with kumo's privileges.
 */
import { posix } from 'node:path';
import type { Mount } from '../../../runtimes/index.ts';
import { SANDBOX_HOSTNAME, SANDBOX_USER, type SandboxFiles } from './sandbox-files.ts';

/** The file descriptors the launcher opens for bwrap (dash only redirects single digits). */
export const FD = { env: 4, seccomp: 5, passwd: 6, group: 7, hosts: 8 } as const;

/** How a top-level system path appears on this host: a real folder, or a merged-/usr symlink. */
export type RootEntry = { path: string; kind: 'dir' } | { path: string; kind: 'symlink'; target: string };

/** Host /etc entries shown read-only whatever the network setting (all harmless, all public). */
const ETC_ALWAYS = ['/etc/localtime', '/etc/ld.so.cache', '/etc/alternatives'];

/** Host /etc entries name resolution and TLS need; shown only when the network is on. */
const ETC_NETWORK = [
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates',
  '/etc/pki/tls/certs',
  '/etc/pki/ca-trust',
];

/** Everything that shapes one sandbox. */
export interface BwrapConfig {
  bwrapPath: string;
  /** When kumo runs as root: the unprivileged host identity bwrap is started as. */
  dropTo?: { setprivPath: string; uid: number; gid: number };
  /** bwrap ≥ 0.8 can forbid nested user namespaces (`--disable-userns`). */
  disableUserns: boolean;
  rootfs: RootEntry[];
  /**
   * Network beyond the instance's socket. Never the host's: with `network: true` the launcher
   * first enters `netns` (the instance's own namespace, connected by pasta: egress.ts) and bwrap
   * keeps it; without, bwrap makes an empty one (loopback only).
   */
  network: boolean;
  netns?: { nsenterPath: string; path: string };
  tmpSizeBytes: number;
  /** Host paths shown read-only at `target` (runtime, shim, bundle); `source` may be a mirror. */
  mounts: Mount[];
  /** Host folders shown read-write at `target` (the instance's socket folder). */
  writable: Mount[];
  /** A private, size-limited, writable tmpfs (a build's task folder), if any. */
  workTmpfs?: { target: string; sizeBytes: number };
  cwd: string;
  command: string;
  args: string[];
  /** `cgroup.procs` files the launcher joins before exec. */
  procsFiles: string[];
  files: SandboxFiles;
  /** The per-instance file holding the environment as bwrap `--args`. */
  envFile: string;
}

/** The launcher script: join the cgroups, open the fds, exec the rest. */
const LAUNCHER = [
  'set -e',
  'while [ "$1" != -- ]; do echo $$ >"$1"; shift; done',
  'shift',
  `exec ${FD.env}<"$1" ${FD.seccomp}<"$2" ${FD.passwd}<"$3" ${FD.group}<"$4" ${FD.hosts}<"$5"`,
  'shift 5',
  'exec "$@"',
].join('\n');

/** The command to spawn: the launcher with all data as positional arguments (never in the script). */
export function launchCommand(cfg: BwrapConfig): { command: string; args: string[] } {
  const { files } = cfg;
  if (cfg.network && !cfg.netns) throw new Error('network: true needs a network namespace of its own');
  // As root, before privileges are dropped: entering a namespace needs CAP_SYS_ADMIN.
  const enter = cfg.netns ? [cfg.netns.nsenterPath, `--net=${cfg.netns.path}`, '--'] : [];
  const drop = cfg.dropTo
    ? [
        cfg.dropTo.setprivPath,
        `--reuid=${cfg.dropTo.uid}`,
        `--regid=${cfg.dropTo.gid}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        '--',
      ]
    : [];
  return {
    command: '/bin/sh',
    args: [
      '-c',
      LAUNCHER,
      'kumo-launch',
      ...cfg.procsFiles,
      '--',
      cfg.envFile,
      files.seccomp,
      files.passwd,
      files.group,
      files.hosts,
      ...enter,
      ...drop,
      cfg.bwrapPath,
      ...bwrapArgs(cfg),
    ],
  };
}

/** bwrap's options and the runtime command (everything after the bwrap path). */
export function bwrapArgs(cfg: BwrapConfig): string[] {
  const a: string[] = ['--args', String(FD.env)];
  a.push('--unshare-all');
  if (cfg.network) a.push('--share-net'); // the namespace the launcher entered, not the host's
  a.push('--unshare-user');
  if (cfg.disableUserns) a.push('--disable-userns');
  a.push(
    '--uid',
    String(SANDBOX_USER.uid),
    '--gid',
    String(SANDBOX_USER.gid),
    '--hostname',
    SANDBOX_HOSTNAME,
  );
  a.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--seccomp', String(FD.seccomp));
  for (const entry of cfg.rootfs) {
    if (entry.kind === 'dir') a.push('--ro-bind', entry.path, entry.path);
    else a.push('--symlink', entry.target, entry.path);
  }
  a.push('--proc', '/proc', '--dev', '/dev');
  // /tmp and /dev/shm are the only writable places besides the socket folder, each size-limited
  // (their pages are also charged to the memory cgroup).
  for (const dir of ['/tmp', '/dev/shm'])
    a.push('--perms', '1777', '--size', String(cfg.tmpSizeBytes), '--tmpfs', dir);
  a.push('--ro-bind-data', String(FD.passwd), '/etc/passwd');
  a.push('--ro-bind-data', String(FD.group), '/etc/group');
  a.push('--ro-bind-data', String(FD.hosts), '/etc/hosts');
  for (const path of ETC_ALWAYS) a.push('--ro-bind-try', path, path);
  if (cfg.network) for (const path of ETC_NETWORK) a.push('--ro-bind-try', path, path);
  const covered = cfg.rootfs.map((e) => e.path);
  const sources = new Map(cfg.mounts.map((m) => [posix.normalize(m.target), m.source]));
  for (const target of outermost([...sources.keys()], covered))
    a.push('--ro-bind', sources.get(target) ?? target, target);
  if (cfg.workTmpfs)
    a.push('--perms', '0777', '--size', String(cfg.workTmpfs.sizeBytes), '--tmpfs', cfg.workTmpfs.target);
  for (const m of cfg.writable) a.push('--bind', m.source, m.target);
  // Last: the tmpfs bwrap assembled the view in, and the one of /dev, become read-only (the
  // mounts on them, like /tmp, /dev/shm and the socket folder, stay as they are).
  a.push('--remount-ro', '/dev', '--remount-ro', '/');
  a.push('--chdir', cfg.cwd, '--', cfg.command, ...cfg.args);
  return a;
}

/** The environment as bwrap `--args` data: NUL-separated `--clearenv --setenv NAME VALUE...`. */
export function envArgsData(env: Record<string, string>): Buffer {
  const parts = ['--clearenv'];
  for (const [name, value] of Object.entries(env)) {
    if (!name || name.includes('=') || name.includes('\0') || value.includes('\0')) {
      throw new Error(`invalid environment variable name or value: ${JSON.stringify(name)}`);
    }
    parts.push('--setenv', name, value);
  }
  return Buffer.from(`${parts.join('\0')}\0`);
}

/** `paths` normalised, without those already inside another one or inside `covered`, shortest first. */
export function outermost(paths: string[], covered: string[]): string[] {
  const inside = (p: string, dir: string) => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
  const sorted = [...new Set(paths.map((p) => posix.normalize(p)))].sort((x, y) => x.length - y.length);
  const kept: string[] = [];
  for (const p of sorted) {
    if (!covered.some((c) => inside(p, c)) && !kept.some((k) => inside(p, k))) kept.push(p);
  }
  return kept;
}
