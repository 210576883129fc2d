/** The exact shape of the sandbox command line. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bwrapArgs, envArgsData, launchCommand, outermost, type BwrapConfig } from './bwrap-command.ts';

const config: BwrapConfig = {
  bwrapPath: '/usr/bin/bwrap',
  dropTo: { setprivPath: '/usr/bin/setpriv', uid: 65534, gid: 65534 },
  disableUserns: true,
  rootfs: [
    { path: '/usr', kind: 'dir' },
    { path: '/lib', kind: 'symlink', target: 'usr/lib' },
  ],
  network: false,
  tmpSizeBytes: 1 << 20,
  mounts: [
    { source: '/opt/node/bin/node', target: '/opt/node/bin/node' },
    { source: '/data/builds/abc', target: '/data/builds/abc' },
    { source: '/data/builds/abc/sub', target: '/data/builds/abc/sub' },
    { source: '/usr/lib/x', target: '/usr/lib/x' },
  ],
  writable: [{ source: '/data/run/i1', target: '/data/run/i1' }],
  cwd: '/data/builds/abc',
  command: '/opt/node/bin/node',
  args: ['/opt/shim.ts'],
  procsFiles: ['/sys/fs/cgroup/memory/kumo/i1/cgroup.procs'],
  files: {
    seccomp: '/r/seccomp.bpf',
    passwd: '/r/passwd',
    group: '/r/group',
    hosts: '/r/hosts',
    envDir: '/r/env',
  },
  envFile: '/r/env/i1',
};

/** The value following `flag` in `args`, for every occurrence. */
function after(args: string[], flag: string, count = 1): string[][] {
  return args.flatMap((a, i) => (a === flag ? [args.slice(i + 1, i + 1 + count)] : []));
}

describe('bwrap command', () => {
  test('unshares everything including the network, drops to an unprivileged user, loads seccomp', () => {
    const args = bwrapArgs(config);
    for (const flag of [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ]) {
      assert.ok(args.includes(flag), flag);
    }
    assert.equal(args.includes('--share-net'), false);
    assert.deepEqual(after(args, '--cap-drop'), [['ALL']]);
    assert.deepEqual(after(args, '--seccomp'), [['5']]);
    assert.deepEqual(after(args, '--args'), [['4']]);
    assert.deepEqual(after(args, '--uid'), [['1000']]);
    assert.ok(bwrapArgs({ ...config, network: true }).includes('--share-net'));
  });

  test('shows only the runtime, the bundle read-only and the socket folder read-write', () => {
    const args = bwrapArgs(config);
    assert.deepEqual(after(args, '--ro-bind', 2), [
      ['/usr', '/usr'],
      ['/data/builds/abc', '/data/builds/abc'],
      ['/opt/node/bin/node', '/opt/node/bin/node'],
    ]);
    assert.deepEqual(after(args, '--bind', 2), [['/data/run/i1', '/data/run/i1']]);
    assert.deepEqual(after(args, '--symlink', 2), [['usr/lib', '/lib']]);
    assert.deepEqual(after(args, '--size', 3), [
      ['1048576', '--tmpfs', '/tmp'],
      ['1048576', '--tmpfs', '/dev/shm'],
    ]);
    assert.equal(args.includes('/etc/resolv.conf'), false, 'no resolver without network');
    assert.ok(bwrapArgs({ ...config, network: true }).includes('/etc/resolv.conf'));
    // the root is made read-only after every mount, and the runtime command ends the list
    assert.deepEqual(args.slice(-7), [
      '--remount-ro',
      '/',
      '--chdir',
      '/data/builds/abc',
      '--',
      '/opt/node/bin/node',
      '/opt/shim.ts',
    ]);
  });

  test('the launcher joins the cgroups first and passes data only as arguments', () => {
    const { command, args } = launchCommand(config);
    assert.equal(command, '/bin/sh');
    const script = args[1] ?? '';
    assert.match(script.split('\n')[1] ?? '', /echo \$\$ >"\$1"/);
    assert.equal(script.includes('/sys/fs/cgroup'), false);
    assert.deepEqual(args.slice(3, 5), ['/sys/fs/cgroup/memory/kumo/i1/cgroup.procs', '--']);
    const setpriv = args.indexOf('/usr/bin/setpriv');
    assert.ok(setpriv > 0 && args.indexOf('/usr/bin/bwrap') > setpriv);
    assert.ok(args.includes('--reuid=65534') && args.includes('--bounding-set=-all'));
    assert.equal(launchCommand({ ...config, dropTo: undefined }).args.includes('/usr/bin/setpriv'), false);
  });

  test('the environment goes to --args data, never onto the command line', () => {
    const data = envArgsData({ A: '1', SECRET: 'x y' });
    assert.deepEqual(data.toString().split('\0'), [
      '--clearenv',
      '--setenv',
      'A',
      '1',
      '--setenv',
      'SECRET',
      'x y',
      '',
    ]);
    assert.throws(() => envArgsData({ 'A=B': '1' }));
    assert.throws(() => envArgsData({ A: 'nul\0byte' }));
  });

  test('outermost drops nested and already-covered paths', () => {
    assert.deepEqual(outermost(['/a/b', '/a', '/ab', '/usr/x', '/a/'], ['/usr']), ['/a', '/ab']);
  });
});
