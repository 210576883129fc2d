/**
 * The generated BPF, run through a small classic-BPF interpreter, for both architectures (the
 * sandbox tests exercise the x86_64 path on the real kernel; aarch64 is only checkable here).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ARCH_TABLES,
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  DENIED_SYSCALLS,
  SECCOMP_RET,
  UNIMPLEMENTED_SYSCALLS,
  seccompProgram,
} from './seccomp.ts';

const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;
const EPERM = SECCOMP_RET.errno | 1;
const ENOSYS = SECCOMP_RET.errno | 38;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const SIGCHLD = 17;
const THREAD_FLAGS = 0x3d0f00; // what glibc's pthread_create passes to clone

/** Runs the program on one `struct seccomp_data` and returns the action (a tiny cBPF interpreter). */
function run(prog: Buffer, arch: number, nr: number, arg0 = 0, arg2 = 0): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  data.writeUInt32LE(arg0 >>> 0, 16);
  data.writeUInt32LE(arg2 >>> 0, 32);
  let acc = 0;
  for (let pc = 0; pc * 8 < prog.length; pc++) {
    const op = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    if (op === 0x20) acc = data.readUInt32LE(k);
    else if (op === 0x06) return k;
    else if (op === 0x15) pc += acc === k ? jt : jf;
    else if (op === 0x35) pc += acc >>> 0 >= k ? jt : jf;
    else if (op === 0x45) pc += (acc & k) !== 0 ? jt : jf;
    else throw new Error(`unexpected opcode ${op}`);
  }
  throw new Error('fell off the end of the program');
}

const prog = seccompProgram();
const arches = [
  ['x64', AUDIT_ARCH_X86_64],
  ['arm64', AUDIT_ARCH_AARCH64],
] as const;

describe('seccomp program', () => {
  test('is whole sock_filter records and fits the kernel limit', () => {
    assert.equal(prog.length % 8, 0);
    assert.ok(prog.length / 8 < 4096);
  });

  for (const [name, audit] of arches) {
    const numbers = ARCH_TABLES[name].numbers;

    test(`${name}: every denied syscall returns EPERM`, () => {
      for (const call of DENIED_SYSCALLS) {
        const nr = numbers[call];
        if (nr !== undefined) assert.equal(run(prog, audit, nr), EPERM, call);
      }
    });

    test(`${name}: clone3 and io_uring return ENOSYS so callers fall back`, () => {
      for (const call of UNIMPLEMENTED_SYSCALLS) {
        const nr = numbers[call];
        assert.ok(nr !== undefined);
        assert.equal(run(prog, audit, nr), ENOSYS, call);
      }
    });

    test(`${name}: clone is allowed for fork and threads, denied with namespace flags`, () => {
      const clone = numbers.clone;
      assert.ok(clone !== undefined);
      assert.equal(run(prog, audit, clone, SIGCHLD), SECCOMP_RET.allow);
      assert.equal(run(prog, audit, clone, THREAD_FLAGS), SECCOMP_RET.allow);
      assert.equal(run(prog, audit, clone, CLONE_NEWUSER | SIGCHLD), EPERM);
      assert.equal(run(prog, audit, clone, CLONE_NEWNET), EPERM);
    });

    test(`${name}: socket and socketpair create only AF_UNIX, AF_INET, AF_INET6 and route netlink`, () => {
      const EAFNOSUPPORT = SECCOMP_RET.errno | 97;
      const EPROTONOSUPPORT = SECCOMP_RET.errno | 93;
      for (const call of ['socket', 'socketpair'] as const) {
        const nr = numbers[call];
        assert.ok(nr !== undefined);
        for (const family of [1, 2, 10]) assert.equal(run(prog, audit, nr, family), SECCOMP_RET.allow);
        assert.equal(run(prog, audit, nr, 16, 0), SECCOMP_RET.allow, 'NETLINK_ROUTE');
        assert.equal(run(prog, audit, nr, 16, 9), EPROTONOSUPPORT, 'NETLINK_AUDIT');
        // AF_VSOCK, AF_ALG, AF_PACKET, AF_BLUETOOTH, AF_KEY, AF_XDP
        for (const family of [40, 38, 17, 31, 15, 44])
          assert.equal(run(prog, audit, nr, family), EAFNOSUPPORT, `family ${family}`);
      }
    });

    test(`${name}: ordinary syscalls are allowed`, () => {
      const denied = new Set<number>(Object.values(numbers));
      for (let nr = 0; nr < 460; nr++) {
        if (!denied.has(nr)) assert.equal(run(prog, audit, nr), SECCOMP_RET.allow, `syscall ${nr}`);
      }
    });
  }

  test('a foreign architecture or the x32 ABI kills the process', () => {
    assert.equal(run(prog, AUDIT_ARCH_I386, 26), SECCOMP_RET.killProcess); // i386 ptrace
    assert.equal(run(prog, AUDIT_ARCH_ARM, 26), SECCOMP_RET.killProcess);
    assert.equal(run(prog, AUDIT_ARCH_X86_64, 0x40000000 + 101), SECCOMP_RET.killProcess);
    assert.equal(run(prog, AUDIT_ARCH_X86_64, 0x40000000 + 39), SECCOMP_RET.killProcess);
  });
});
