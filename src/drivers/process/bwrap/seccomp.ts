/**
 * The seccomp filter every sandboxed instance runs under, generated here as classic BPF so no
 * libseccomp is needed at run time. bubblewrap loads it (`--seccomp FD`) after setting
 * no_new_privs, as the last step before exec, so it binds the shim and everything it forks.
 *
 * Policy: a deny list on top of the namespaces, dropped capabilities and unprivileged uid. The
 * denied calls are the kernel attack surface a function never needs (mounting, namespaces,
 * tracing, keyrings, BPF, modules, kexec, io_uring...). They fail with EPERM, except `clone3` and
 * `io_uring_*`, which fail with ENOSYS so glibc and libuv fall back to `clone` and plain I/O.
 * `clone` is allowed only without namespace flags (clone3 hides its flags behind a pointer,
 * which is why it is refused). A system call made through another ABI (i386 or x32 on x86_64,
 * arm32 on aarch64) kills the process: the tables below only describe the native one.
 *
 * Sockets: `socket` and `socketpair` are allowed only for the families a function has a use for
 * (AF_UNIX, AF_INET, AF_INET6, and AF_NETLINK with NETLINK_ROUTE, which getaddrinfo and
 * getifaddrs use); any other (AF_VSOCK to the hypervisor, AF_ALG, AF_PACKET, AF_BLUETOOTH...)
 * fails with EAFNOSUPPORT, as on a kernel built without it, so callers fall back cleanly.
 */

/** `AUDIT_ARCH_X86_64` from <linux/audit.h>: EM_X86_64 | 64BIT | LE. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** `AUDIT_ARCH_AARCH64` from <linux/audit.h>: EM_AARCH64 | 64BIT | LE. */
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

/** seccomp return actions (<linux/seccomp.h>). */
export const SECCOMP_RET = {
  killProcess: 0x80000000,
  errno: 0x00050000,
  allow: 0x7fff0000,
} as const;

/** errno values the filter returns. */
export const ERRNO = { EPERM: 1, ENOSYS: 38, EPROTONOSUPPORT: 93, EAFNOSUPPORT: 97 } as const;

/** Socket families (<linux/socket.h>) `socket` and `socketpair` may create; the rest get EAFNOSUPPORT. */
export const ALLOWED_SOCKET_FAMILIES = { AF_UNIX: 1, AF_INET: 2, AF_INET6: 10 } as const;
/** AF_NETLINK is allowed with this protocol only (NETLINK_ROUTE: addresses and routes of its own namespace). */
export const AF_NETLINK = 16;
export const NETLINK_ROUTE = 0;

/** Namespace flags `clone` may not carry (CLONE_NEWTIME shares bits with the exit signal in clone). */
export const CLONE_NAMESPACE_FLAGS =
  0x00020000 | // CLONE_NEWNS
  0x02000000 | // CLONE_NEWCGROUP
  0x04000000 | // CLONE_NEWUTS
  0x08000000 | // CLONE_NEWIPC
  0x10000000 | // CLONE_NEWUSER
  0x20000000 | // CLONE_NEWPID
  0x40000000; // CLONE_NEWNET

/** x32 system calls on x86_64 carry this bit; they bypass the native table, so they are killed. */
const X32_SYSCALL_BIT = 0x40000000;

/** Syscalls denied with EPERM, by name. Numbers from <asm/unistd_64.h> and <asm-generic/unistd.h>. */
export const DENIED_SYSCALLS = [
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'mount',
  'umount2',
  'pivot_root',
  'chroot',
  'unshare',
  'setns',
  'open_tree',
  'move_mount',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  'kexec_load',
  'kexec_file_load',
  'reboot',
  'init_module',
  'finit_module',
  'delete_module',
  'bpf',
  'perf_event_open',
  'keyctl',
  'add_key',
  'request_key',
  'swapon',
  'swapoff',
  'open_by_handle_at',
  'name_to_handle_at',
  'userfaultfd',
  'acct',
  'quotactl',
  'quotactl_fd',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'syslog',
  'vhangup',
  'lookup_dcookie',
  'iopl',
  'ioperm',
  'uselib',
] as const;

/** Syscalls answered with ENOSYS so that callers fall back to an older interface. */
export const UNIMPLEMENTED_SYSCALLS = [
  'clone3',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
] as const;

type SyscallName =
  | (typeof DENIED_SYSCALLS)[number]
  | (typeof UNIMPLEMENTED_SYSCALLS)[number]
  | 'clone'
  | 'socket'
  | 'socketpair';

/** One native system-call table: syscalls absent on an architecture are left out. */
interface ArchTable {
  audit: number;
  numbers: Partial<Record<SyscallName, number>>;
  /** Smallest syscall number that belongs to a foreign ABI on this architecture, if any. */
  foreignFrom?: number;
}

/** The architectures the filter knows, keyed by Node's `process.arch`. */
export const ARCH_TABLES: Record<'x64' | 'arm64', ArchTable> = {
  x64: {
    audit: AUDIT_ARCH_X86_64,
    foreignFrom: X32_SYSCALL_BIT,
    numbers: {
      clone: 56,
      socket: 41,
      socketpair: 53,
      clone3: 435,
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427,
      ptrace: 101,
      process_vm_readv: 310,
      process_vm_writev: 311,
      mount: 165,
      umount2: 166,
      pivot_root: 155,
      chroot: 161,
      unshare: 272,
      setns: 308,
      open_tree: 428,
      move_mount: 429,
      fsopen: 430,
      fsconfig: 431,
      fsmount: 432,
      fspick: 433,
      mount_setattr: 442,
      kexec_load: 246,
      kexec_file_load: 320,
      reboot: 169,
      init_module: 175,
      finit_module: 313,
      delete_module: 176,
      bpf: 321,
      perf_event_open: 298,
      keyctl: 250,
      add_key: 248,
      request_key: 249,
      swapon: 167,
      swapoff: 168,
      open_by_handle_at: 304,
      name_to_handle_at: 303,
      userfaultfd: 323,
      acct: 163,
      quotactl: 179,
      quotactl_fd: 443,
      settimeofday: 164,
      clock_settime: 227,
      clock_adjtime: 305,
      adjtimex: 159,
      syslog: 103,
      vhangup: 153,
      lookup_dcookie: 212,
      iopl: 172,
      ioperm: 173,
      uselib: 134,
    },
  },
  arm64: {
    audit: AUDIT_ARCH_AARCH64,
    numbers: {
      clone: 220,
      socket: 198,
      socketpair: 199,
      clone3: 435,
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427,
      ptrace: 117,
      process_vm_readv: 270,
      process_vm_writev: 271,
      mount: 40,
      umount2: 39,
      pivot_root: 41,
      chroot: 51,
      unshare: 97,
      setns: 268,
      open_tree: 428,
      move_mount: 429,
      fsopen: 430,
      fsconfig: 431,
      fsmount: 432,
      fspick: 433,
      mount_setattr: 442,
      kexec_load: 104,
      kexec_file_load: 294,
      reboot: 142,
      init_module: 105,
      finit_module: 273,
      delete_module: 106,
      bpf: 280,
      perf_event_open: 241,
      keyctl: 219,
      add_key: 217,
      request_key: 218,
      swapon: 224,
      swapoff: 225,
      open_by_handle_at: 265,
      name_to_handle_at: 264,
      userfaultfd: 282,
      acct: 89,
      quotactl: 60,
      quotactl_fd: 443,
      settimeofday: 170,
      clock_settime: 112,
      clock_adjtime: 266,
      adjtimex: 171,
      syslog: 116,
      vhangup: 58,
      lookup_dcookie: 18,
    },
  },
};

/** Whether the filter has a table for this architecture (`process.arch`). */
export function seccompSupportsArch(arch: string): arch is keyof typeof ARCH_TABLES {
  return Object.hasOwn(ARCH_TABLES, arch);
}

// Classic BPF opcodes (<linux/bpf_common.h>).
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

/** Offsets in `struct seccomp_data`: nr (int), arch (u32), instruction_pointer (u64), args[6] (u64). */
const DATA_NR = 0;
const DATA_ARCH = 4;
/** Low 32 bits of args[0] on a little-endian machine (both supported architectures are). */
const DATA_ARG0_LO = 16;
/** Low 32 bits of args[2] (the kernel reads `int` arguments from the low half). */
const DATA_ARG2_LO = 32;

/** One instruction whose jump targets are labels, resolved by `assemble`. */
type Insn =
  | { op: 'ld'; offset: number }
  | { op: 'jeq' | 'jge' | 'jset'; k: number; then: string; else?: string }
  | { op: 'ret'; k: number }
  | { op: 'label'; name: string };

/** The seccomp program for both supported architectures, as bytes for `bwrap --seccomp`. */
export function seccompProgram(): Buffer {
  const prog: Insn[] = [{ op: 'ld', offset: DATA_ARCH }];
  const arches = Object.entries(ARCH_TABLES);
  for (const [name, table] of arches) prog.push({ op: 'jeq', k: table.audit, then: `arch_${name}` });
  prog.push({ op: 'ret', k: SECCOMP_RET.killProcess });
  for (const [name, table] of arches) prog.push(...archBlock(name, table));
  prog.push(
    { op: 'label', name: 'clone' },
    { op: 'ld', offset: DATA_ARG0_LO },
    { op: 'jset', k: CLONE_NAMESPACE_FLAGS, then: 'eperm' },
    { op: 'ret', k: SECCOMP_RET.allow },
    ...socketBlock(),
    { op: 'label', name: 'eperm' },
    { op: 'ret', k: SECCOMP_RET.errno | ERRNO.EPERM },
    { op: 'label', name: 'enosys' },
    { op: 'ret', k: SECCOMP_RET.errno | ERRNO.ENOSYS },
    { op: 'label', name: 'kill' },
    { op: 'ret', k: SECCOMP_RET.killProcess },
  );
  return assemble(prog);
}

/** The checks for one architecture: foreign ABI, clone, ENOSYS calls, EPERM calls, then allow. */
function archBlock(name: string, table: ArchTable): Insn[] {
  const out: Insn[] = [
    { op: 'label', name: `arch_${name}` },
    { op: 'ld', offset: DATA_NR },
  ];
  if (table.foreignFrom !== undefined) out.push({ op: 'jge', k: table.foreignFrom, then: 'kill' });
  const nr = (call: SyscallName) => table.numbers[call];
  const clone = nr('clone');
  if (clone !== undefined) out.push({ op: 'jeq', k: clone, then: 'clone' });
  for (const call of ['socket', 'socketpair'] as const) {
    const n = nr(call);
    if (n !== undefined) out.push({ op: 'jeq', k: n, then: 'socket' });
  }
  for (const call of UNIMPLEMENTED_SYSCALLS) {
    const n = nr(call);
    if (n !== undefined) out.push({ op: 'jeq', k: n, then: 'enosys' });
  }
  for (const call of DENIED_SYSCALLS) {
    const n = nr(call);
    if (n !== undefined) out.push({ op: 'jeq', k: n, then: 'eperm' });
  }
  out.push({ op: 'ret', k: SECCOMP_RET.allow });
  return out;
}

/** `socket`/`socketpair`: the family (args[0]) must be allowed; netlink only with NETLINK_ROUTE. */
function socketBlock(): Insn[] {
  const out: Insn[] = [
    { op: 'label', name: 'socket' },
    { op: 'ld', offset: DATA_ARG0_LO },
  ];
  for (const family of Object.values(ALLOWED_SOCKET_FAMILIES))
    out.push({ op: 'jeq', k: family, then: 'socket_allow' });
  out.push(
    { op: 'jeq', k: AF_NETLINK, then: 'netlink' },
    { op: 'ret', k: SECCOMP_RET.errno | ERRNO.EAFNOSUPPORT },
    { op: 'label', name: 'netlink' },
    { op: 'ld', offset: DATA_ARG2_LO },
    { op: 'jeq', k: NETLINK_ROUTE, then: 'socket_allow' },
    { op: 'ret', k: SECCOMP_RET.errno | ERRNO.EPROTONOSUPPORT },
    { op: 'label', name: 'socket_allow' },
    { op: 'ret', k: SECCOMP_RET.allow },
  );
  return out;
}

/** Resolves labels and encodes `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }` (little-endian). */
function assemble(prog: Insn[]): Buffer {
  const labels = new Map<string, number>();
  const code: Exclude<Insn, { op: 'label' }>[] = [];
  for (const insn of prog) {
    if (insn.op === 'label') labels.set(insn.name, code.length);
    else code.push(insn);
  }
  const out = Buffer.alloc(code.length * 8);
  code.forEach((insn, pc) => {
    let op = BPF_RET_K;
    let jt = 0;
    let jf = 0;
    let k: number;
    if (insn.op === 'ld') {
      op = BPF_LD_W_ABS;
      k = insn.offset;
    } else if (insn.op === 'ret') {
      k = insn.k;
    } else {
      op = insn.op === 'jeq' ? BPF_JEQ_K : insn.op === 'jge' ? BPF_JGE_K : BPF_JSET_K;
      k = insn.k;
      jt = jumpOffset(labels, insn.then, pc);
      jf = insn.else === undefined ? 0 : jumpOffset(labels, insn.else, pc);
    }
    out.writeUInt16LE(op, pc * 8);
    out.writeUInt8(jt, pc * 8 + 2);
    out.writeUInt8(jf, pc * 8 + 3);
    out.writeUInt32LE(k >>> 0, pc * 8 + 4);
  });
  return out;
}

/** A forward jump distance; classic BPF jumps are 8-bit and never go backwards. */
function jumpOffset(labels: Map<string, number>, label: string, pc: number): number {
  const target = labels.get(label);
  if (target === undefined) throw new Error(`seccomp: unknown label ${label}`);
  const offset = target - pc - 1;
  if (offset < 0 || offset > 255) throw new Error(`seccomp: jump to ${label} out of range (${offset})`);
  return offset;
}
