/**
 * Hostile tests of the bubblewrap sandbox: real instances started through ProcessDriver, each
 * running a small agent that tries, on request, something a malicious function would try.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Instance, InstanceLimits, InstanceSpec } from '../../driver.ts';
import { ProcessDriver } from '../process-driver.ts';
import { BubblewrapSandbox } from './bubblewrap-sandbox.ts';
import { canSandbox, probeHost, sandboxProblems, type HostProbe } from './host-probe.ts';
import { ARCH_TABLES, seccompSupportsArch } from './seccomp.ts';

/** The agent: serves POST /do {action,...} on KUMO_SOCKET and reports ready on fd 3. */
const AGENT = String.raw`
import { createServer, connect } from 'node:net';
import { createServer as httpServer } from 'node:http';
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';

const code = (fn) => { try { return { ok: true, value: fn() }; } catch (e) { return { ok: false, code: e.code ?? String(e) }; } };
const actions = {
  stat: ({ path }) => code(() => fs.statSync(path).isDirectory()),
  read: ({ path }) => code(() => fs.readFileSync(path, 'utf8').length),
  list: ({ path }) => code(() => fs.readdirSync(path)),
  write: ({ path, bytes }) => code(() => { fs.writeFileSync(path, Buffer.alloc(bytes, 120)); return bytes; }),
  env: () => ({ ok: true, value: process.env }),
  whoami: () => ({ ok: true, value: { uid: process.getuid(), gid: process.getgid(), user: os.userInfo().username, host: os.hostname() } }),
  status: () => ({ ok: true, value: fs.readFileSync('/proc/self/status', 'utf8') }),
  fds: () => ({ ok: true, value: fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } }) }),
  exec: ({ cmd, args }) => { const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 }); return { ok: true, value: { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, error: r.error?.code } }; },
  connect: ({ port }) => new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve({ ok: true }); });
    s.once('error', (e) => resolve({ ok: false, code: e.code }));
  }),
  hog: () => { const keep = []; setInterval(() => { for (let i = 0; i < 4; i++) keep.push(Buffer.alloc(8 << 20, 1)); }, 1); return { ok: true }; },
  forkbomb: () => { spawn('/bin/sh', ['-c', 'f() { f | f & }; f; sleep 60'], { stdio: 'ignore', detached: true }); return { ok: true }; },
};
const server = httpServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const input = JSON.parse(body);
    const out = await actions[input.action](input);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(out));
  });
});
process.on('SIGTERM', () => process.exit(0));
server.listen(process.env.KUMO_SOCKET, () => {
  fs.writeSync(3, JSON.stringify({ type: 'ready' }) + '\n');
  fs.closeSync(3);
});
`;

/** Syscalls made straight through libc's syscall(2), printing errno (0 = allowed) per call. */
const SYSCALLS_PY = String.raw`
import ctypes, json, sys
nr = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def call(n, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(n), *[ctypes.c_long(a) for a in args])
    return ctypes.get_errno() if r == -1 else 0
out = {
  'ptrace': call(nr['ptrace'], 0, 0, 0, 0),
  'unshare': call(nr['unshare'], 0x10000000),
  'mount': call(nr['mount'], 0, 0, 0, 0, 0),
  'keyctl': call(nr['keyctl'], 0, -3, 0),
  'bpf': call(nr['bpf'], 0, 0, 0),
  'userfaultfd': call(nr['userfaultfd'], 0),
  'setns': call(nr['setns'], 0, 0),
  'io_uring_setup': call(nr['io_uring_setup'], 1, 0),
}
print(json.dumps(out))
`;

const SERVER_SECRET = 'KUMO_TEST_SERVER_SECRET';
const FUNCTION_SECRET_VALUE = `fn-secret-${process.pid}`;

let probe: HostProbe;
let base: string;
let buildDir: string;
let sandbox: BubblewrapSandbox;
let driver: ProcessDriver;
let counter = 0;
const cgroupName = `kumo-test-${process.pid}`;

before(async () => {
  probe = await probeHost({ cgroupName });
  if (!canSandbox(probe))
    throw new Error(`the sandbox cannot run here: ${sandboxProblems(probe).join('; ')}`);
  base = await mkdtemp(join(tmpdir(), 'kumo-bwrap-test-'));
  // The sandbox's host user (nobody) must be able to walk to the build, as with a real data dir.
  await chmod(base, 0o755);
  buildDir = join(base, 'builds', 'fn-a');
  await mkdir(buildDir, { recursive: true });
  await writeFile(join(buildDir, 'agent.mjs'), AGENT);
  await writeFile(join(buildDir, 'syscalls.py'), SYSCALLS_PY);
  await mkdir(join(base, 'builds', 'fn-b'), { recursive: true });
  await writeFile(join(base, 'builds', 'fn-b', 'secret.txt'), 'other function');
  await mkdir(join(base, 'data'), { recursive: true });
  await writeFile(join(base, 'data', 'kumo.db'), 'server data');
  await mkdir(join(base, 'run', 'sibling'), { recursive: true });
  await writeFile(join(base, 'run', 'sibling', 'other.sock'), '');
  await chmod(join(base, 'run'), 0o755);
  // As the server does: paths the sandbox user cannot reach (a checkout under a 0700 folder) are mirrored.
  const stageDir = join(base, 'stage');
  await mkdir(stageDir, { recursive: true });
  await chmod(stageDir, 0o711);
  sandbox = new BubblewrapSandbox({ probe, runDir: join(base, 'data', 'sandbox'), stageDir });
  driver = new ProcessDriver(sandbox);
  process.env[SERVER_SECRET] = 'hunter2';
});

after(async () => {
  delete process.env.KUMO_TEST_SERVER_SECRET;
  await sandbox?.close();
  if (base) await rm(base, { recursive: true, force: true });
  for (const h of probe?.cgroups.hierarchies ?? []) {
    assert.equal(await exists(h.parent), false, `cgroup parent ${h.parent} was left behind`);
  }
});

/** The pids in an instance's cgroup (bwrap, the function and what it started). */
async function instancePids(instance: Instance): Promise<string[]> {
  const procs = await sandbox.cgroupOf(instance.id)?.read('pids', 'cgroup.procs');
  return (procs ?? '').split('\n').filter(Boolean);
}

/** The host uid an instance's processes run as. */
async function hostUidOf(instance: Instance): Promise<number> {
  const [pid] = await instancePids(instance);
  const st = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(st)?.[1]);
}

/** Starts one agent instance with `limits`. */
async function startAgent(
  limits: Partial<InstanceLimits> = {},
): Promise<{ instance: Instance; output: string[] }> {
  const id = `t${process.pid}-${++counter}`;
  const socketDir = join(base, 'run', id);
  await mkdir(socketDir);
  const output: string[] = [];
  const spec: InstanceSpec = {
    id,
    functionName: 'agent',
    version: 1,
    socketPath: join(socketDir, 'instance.sock'),
    limits: { memoryMb: 128, network: false, ...limits },
    startTimeoutMs: 15_000,
    onOutput: (_stream, line) => output.push(line),
    launch: {
      command: process.execPath,
      args: [join(buildDir, 'agent.mjs')],
      // The sandbox shows the socket folder at /run/kumo.
      env: { KUMO_SOCKET: '/run/kumo/instance.sock', FUNCTION_SECRET: FUNCTION_SECRET_VALUE },
      cwd: buildDir,
      mounts: [
        { source: process.execPath, target: process.execPath },
        { source: buildDir, target: buildDir },
      ],
    },
  };
  const instance = await driver.start(spec);
  return { instance, output };
}

/** Asks the agent to do something and returns its answer. */
function ask<T = unknown>(
  instance: Instance,
  input: Record<string, unknown>,
): Promise<{ ok: boolean; value?: T; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: instance.socketPath, path: '/do', method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as { ok: boolean; value?: T; code?: string }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(input));
  });
}

/** Whether a path exists on the host. */
async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code === 'EISDIR',
  );
}

/** Polls `check` until it is true (a kernel counter has no event to wait for); fails after `ms`. */
async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bubblewrap sandbox', () => {
  test('hides the host: /etc/shadow, /root, /home, /work, the data dir, other builds and instances', async () => {
    const { instance } = await startAgent();
    try {
      for (const path of [
        '/etc/shadow',
        '/root',
        '/home',
        '/sys',
        '/var',
        '/work/main/package.json',
        join(base, 'data'),
        join(base, 'data', 'kumo.db'),
        join(base, 'builds', 'fn-b', 'secret.txt'),
        join(base, 'run', 'sibling'),
      ]) {
        const r = await ask(instance, { action: 'stat', path });
        assert.deepEqual(r, { ok: false, code: 'ENOENT' }, `${path} is visible`);
      }
      const etc = await ask<string[]>(instance, { action: 'list', path: '/etc' });
      assert.deepEqual(
        etc.value?.filter((f) => ['shadow', 'gshadow', 'sudoers', 'ssh'].includes(f)),
        [],
      );
      const build = await ask<string[]>(instance, { action: 'list', path: join(base, 'builds') });
      assert.deepEqual(build.value, ['fn-a']);
      assert.equal((await ask(instance, { action: 'read', path: join(buildDir, 'agent.mjs') })).ok, true);
    } finally {
      await instance.stop(1000);
    }
  });

  test('the bundle, / and /dev are read-only; /tmp and /dev/shm are private and full at their size', async () => {
    const { instance } = await startAgent({ tmpSizeMb: 4 });
    try {
      const bundle = await ask(instance, { action: 'write', path: join(buildDir, 'evil.js'), bytes: 10 });
      assert.deepEqual(bundle, { ok: false, code: 'EROFS' });
      assert.deepEqual(await ask(instance, { action: 'write', path: '/evil', bytes: 10 }), {
        ok: false,
        code: 'EROFS',
      });
      assert.deepEqual(await ask(instance, { action: 'write', path: '/usr/evil', bytes: 10 }), {
        ok: false,
        code: 'EROFS',
      });
      assert.deepEqual(await ask(instance, { action: 'write', path: '/tmp/small', bytes: 1024 }), {
        ok: true,
        value: 1024,
      });
      const big = await ask(instance, { action: 'write', path: '/tmp/big', bytes: 8 << 20 });
      assert.deepEqual(big, { ok: false, code: 'ENOSPC' });
      const shm = await ask(instance, { action: 'write', path: '/dev/shm/big', bytes: 8 << 20 });
      assert.deepEqual(shm, { ok: false, code: 'ENOSPC' });
      assert.deepEqual(await ask(instance, { action: 'write', path: '/dev/evil', bytes: 1 }), {
        ok: false,
        code: 'EROFS',
      });
      assert.equal(await exists(join(buildDir, 'evil.js')), false);
    } finally {
      await instance.stop(1000);
    }
  });

  test('runs as an unprivileged user with exactly the function environment', async () => {
    const { instance } = await startAgent();
    try {
      const env = await ask<Record<string, string>>(instance, { action: 'env' });
      assert.equal(env.value?.[SERVER_SECRET], undefined, 'the server environment leaked');
      assert.deepEqual(Object.keys(env.value ?? {}).sort(), ['FUNCTION_SECRET', 'KUMO_SOCKET', 'PWD']);
      const who = await ask<{ uid: number; gid: number; user: string; host: string }>(instance, {
        action: 'whoami',
      });
      assert.deepEqual(who.value, { uid: 1000, gid: 1000, user: 'kumo', host: 'kumo' });
      const status = (await ask<string>(instance, { action: 'status' })).value ?? '';
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      assert.match(status, /^Seccomp:\s+2$/m);
      assert.match(status, /^CapEff:\s+0+$/m);
      assert.match(status, /^CapBnd:\s+0+$/m);
      const fds = (await ask<string[]>(instance, { action: 'fds' })).value ?? [];
      assert.deepEqual(
        fds.filter((f) => f.includes(base) || f.includes('seccomp') || f.includes('passwd')),
        [],
        'a launcher file descriptor leaked into the sandbox',
      );
      assert.deepEqual(
        await readdir(join(base, 'data', 'sandbox', 'env')),
        [],
        'the env file outlived the launch',
      );
      // On the host, every process of the instance belongs to one unprivileged user of its own
      // (when kumo is root: a uid of the range, claimed host-wide while it runs), and the
      // function's variables appear in no command line (which every local user can read).
      const uid = await hostUidOf(instance);
      const pids = await instancePids(instance);
      assert.ok(pids.length >= 2, `expected bwrap and the agent in the cgroup, got ${pids.length}`);
      if (probe.runsAsRoot) {
        assert.ok(uid >= probe.idRange.base && uid < probe.idRange.base + probe.idRange.count, `uid ${uid}`);
        assert.equal(await exists(`/run/kumo/ids/${uid}`), true, 'the uid is claimed host-wide');
      }
      for (const pid of pids) {
        const st = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
        if (!st) continue; // exited meanwhile
        assert.match(st, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s`, 'm'));
        assert.match(st, new RegExp(`^Gid:\\s+${uid}\\s+${uid}\\s+${uid}\\s`, 'm'));
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        assert.equal(
          cmdline.includes(FUNCTION_SECRET_VALUE),
          false,
          'a function variable is in a command line',
        );
      }
    } finally {
      await instance.stop(1000);
    }
  });

  test('two instances run as two host uids; an instance’s uid is released when it stops', async (t) => {
    if (!probe.runsAsRoot) {
      t.skip('kumo is not root: instances run as its own user');
      return;
    }
    const [one, two] = await Promise.all([startAgent(), startAgent()]);
    const uids = [await hostUidOf(one.instance), await hostUidOf(two.instance)];
    await Promise.all([one.instance.stop(1000), two.instance.stop(1000)]);
    assert.notEqual(uids[0], uids[1]);
    for (const uid of uids)
      assert.equal(await exists(`/run/kumo/ids/${uid}`), false, `uid ${uid} still claimed`);
  });

  test('the seccomp filter denies ptrace, unshare, mount, keyctl, bpf, setns and userfaultfd', async (t) => {
    if (!(await exists('/usr/bin/python3')) || !seccompSupportsArch(process.arch)) {
      t.skip('needs /usr/bin/python3 inside the view');
      return;
    }
    const { instance } = await startAgent();
    try {
      const numbers = ARCH_TABLES[process.arch as 'x64' | 'arm64'].numbers;
      const r = await ask<{ status: number; stdout: string; stderr: string }>(instance, {
        action: 'exec',
        cmd: '/usr/bin/python3',
        args: [join(buildDir, 'syscalls.py'), JSON.stringify(numbers)],
      });
      assert.equal(r.value?.status, 0, r.value?.stderr);
      const EPERM = 1;
      const ENOSYS = 38;
      assert.deepEqual(JSON.parse(r.value?.stdout ?? '{}'), {
        ptrace: EPERM,
        unshare: EPERM,
        mount: EPERM,
        keyctl: EPERM,
        bpf: EPERM,
        userfaultfd: EPERM,
        setns: EPERM,
        io_uring_setup: ENOSYS,
      });
      // A tool that would otherwise create a user namespace fails, and plain forks still work.
      const unshare = await ask<{ status: number }>(instance, {
        action: 'exec',
        cmd: '/usr/bin/unshare',
        args: ['-U', 'true'],
      });
      assert.notEqual(unshare.value?.status, 0);
      const sh = await ask<{ status: number; stdout: string }>(instance, {
        action: 'exec',
        cmd: '/bin/sh',
        args: ['-c', 'echo $(echo forked)'],
      });
      assert.deepEqual([sh.value?.status, sh.value?.stdout], [0, 'forked\n']);
    } finally {
      await instance.stop(1000);
    }
  });

  test('a system call through the x32 ABI kills the process', async (t) => {
    if (process.arch !== 'x64' || !(await exists('/usr/bin/python3'))) {
      t.skip('x86_64 with python3 only');
      return;
    }
    const { instance } = await startAgent();
    try {
      const x32Getpid = 0x40000000 + 39;
      const r = await ask<{ signal: string }>(instance, {
        action: 'exec',
        cmd: '/usr/bin/python3',
        args: ['-c', `import ctypes; ctypes.CDLL(None).syscall(${x32Getpid})`],
      });
      assert.equal(r.value?.signal, 'SIGSYS');
    } finally {
      await instance.stop(1000);
    }
  });

  test('a loopback listener of the host is unreachable with network off and with network on', async () => {
    const server: Server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const off = await startAgent({ network: false });
    const on = await startAgent({ network: true });
    try {
      const denied = await ask(off.instance, { action: 'connect', port });
      assert.equal(denied.ok, false);
      assert.match(denied.code ?? '', /ECONNREFUSED|ENETUNREACH/);
      // network: true is a namespace of its own (pasta), whose 127.0.0.1 is its own.
      const alsoDenied = await ask(on.instance, { action: 'connect', port });
      assert.equal(alsoDenied.ok, false);
      assert.match(alsoDenied.code ?? '', /ECONNREFUSED/);
      const resolv = await ask(on.instance, { action: 'stat', path: '/etc/resolv.conf' });
      assert.equal(resolv.ok, await exists('/etc/resolv.conf'));
    } finally {
      await Promise.all([off.instance.stop(1000), on.instance.stop(1000)]);
      server.close();
    }
  });

  test('network: true on a host without pasta is refused, naming the package to install', async () => {
    const bare = await probeHost({ cgroupName, pastaPath: join(base, 'no-such-pasta') });
    assert.equal(bare.checks.network.ok, false);
    const refusing = new ProcessDriver(
      new BubblewrapSandbox({ probe: bare, runDir: join(base, 'data', 'sandbox2') }),
    );
    const id = `t${process.pid}-nopasta`;
    await mkdir(join(base, 'run', id));
    await assert.rejects(
      refusing.start({
        id,
        functionName: 'agent',
        version: 1,
        socketPath: join(base, 'run', id, 'x.sock'),
        limits: { memoryMb: 64, network: true },
        startTimeoutMs: 5000,
        onOutput: () => {},
        launch: { command: process.execPath, args: [], env: {}, cwd: buildDir, mounts: [] },
      }),
      {
        code: 'instance_failed_to_start',
        message: /network: true.*pasta \(package passt\).*apt-get install -y passt/,
      },
    );
  });

  test('a memory hog is killed and the exit is classified memory_limit', async () => {
    const { instance } = await startAgent({ memoryMb: 96 });
    await ask(instance, { action: 'hog' });
    const info = await instance.exited;
    assert.equal(info.reason, 'memory_limit');
  });

  test('a fork bomb hits the pids limit, the host is unaffected, and kill cleans everything up', async () => {
    const { instance } = await startAgent({ maxProcesses: 32 });
    const group = sandbox.cgroupOf(instance.id);
    assert.ok(group);
    const dirs = group.dirs.map((d) => d.dir);
    await ask(instance, { action: 'forkbomb' });
    await until(
      async () => /^max [1-9]/m.test(await group.read('pids', 'pids.events')),
      'the pids limit to be hit',
    );
    assert.ok(Number(await group.read('pids', 'pids.current')) <= 32);
    assert.equal(spawnSync('/bin/true').status, 0, 'the host can still fork');
    instance.kill();
    const info = await instance.exited;
    assert.equal(info.reason, 'killed');
    for (const dir of dirs) assert.equal(await exists(dir), false, `${dir} was not removed`);
  });

  test('every instance cgroup folder is removed after stop', async () => {
    const { instance } = await startAgent({ cpu: 0.5 });
    const group = sandbox.cgroupOf(instance.id);
    assert.ok(group);
    const dirs = group.dirs.map((d) => d.dir);
    assert.equal(dirs.length, probe.cgroups.hierarchies.length);
    for (const dir of dirs) assert.equal(await exists(dir), true);
    const cpu = probe.cgroups.hierarchies.find((h) => h.controllers.includes('cpu'));
    if (cpu?.version === 1) assert.equal((await group.read('cpu', 'cpu.cfs_quota_us')).trim(), '50000');
    if (cpu?.version === 2) assert.equal((await group.read('cpu', 'cpu.max')).trim(), '50000 100000');
    const info = await instance.stop(1000);
    assert.equal(info.reason, 'killed');
    for (const dir of dirs) assert.equal(await exists(dir), false, `${dir} was not removed`);
    assert.equal(sandbox.cgroupOf(instance.id), undefined);
  });

  test('stop() reaches the function with SIGTERM through bwrap, so it can exit cleanly', async () => {
    const { instance } = await startAgent();
    const info = await instance.stop(5000);
    assert.deepEqual(info, { code: 0, signal: null, reason: 'killed' });
  });

  test('refuses a socket folder that is not private to the instance', async () => {
    await assert.rejects(
      driver.start({
        id: `t${process.pid}-shared`,
        functionName: 'agent',
        version: 1,
        socketPath: join(base, 'run', 'sibling', 'x.sock'),
        limits: { memoryMb: 64, network: false },
        startTimeoutMs: 5000,
        onOutput: () => {},
        launch: {
          command: process.execPath,
          args: [],
          env: {},
          cwd: buildDir,
          mounts: [{ source: buildDir, target: buildDir }],
        },
      }),
      { code: 'instance_failed_to_start', message: /must be private to the instance/ },
    );
  });
});
