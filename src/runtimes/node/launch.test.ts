import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { writeLaunchRecord } from '../launch-record.ts';
import { CONTROL_VARIABLES, takeControl } from '../instance/node/control.ts';
import { nodeInstallDir, shimBundle } from '../shim-bundle.ts';
import { NEUTRAL, taskDir } from '../layout.ts';
import { heapLimitMb, launchNode, SHIM_PATH } from './launch.ts';
import { specOf } from './test-support.ts';

test('launch: the environment is the function variables, the basics and the control variables, nothing else', async () => {
  const buildDir = await mkdtemp(join(tmpdir(), 'kumo-launch-'));
  process.env.KUMO_TEST_SECRET = 'server-secret';
  try {
    await writeLaunchRecord(buildDir, 'node', {
      entry: 'index.kumo.mjs',
      exportName: 'main',
      style: 'lambda',
    });
    const spec = specOf(
      { memory: 512, timeout: '10s', env: { GREETING: 'hi', NODE_ENV: 'staging' } },
      'greet',
    );
    const plan = launchNode({
      buildDir,
      spec,
      version: 3,
      socketPath: '/tmp/x.sock',
      view: { neutral: false },
    });
    assert.equal(plan.command, process.execPath);
    // the shim runs as one bundled JavaScript file, readable by everyone, with no TypeScript left
    const shim = shimBundle(SHIM_PATH);
    assert.deepEqual(plan.args, ['--max-old-space-size=384', '--enable-source-maps', shim]);
    assert.match(shim, /\.mjs$/);
    assert.equal((await stat(shim)).mode & 0o777, 0o644);
    assert.doesNotMatch(await readFile(shim, 'utf8'), /from '\.{1,2}\/[^']*\.ts'/);
    // made again, in a new folder, when something removed it (a /tmp cleaner)
    await rm(dirname(shim), { recursive: true, force: true });
    const again = shimBundle(SHIM_PATH);
    assert.notEqual(dirname(again), dirname(shim));
    assert.equal((await stat(again)).mode & 0o777, 0o644);
    assert.equal(plan.cwd, taskDir(buildDir));
    assert.deepEqual(plan.env, {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/tmp',
      LAMBDA_TASK_ROOT: taskDir(buildDir),
      NODE_ENV: 'staging',
      GREETING: 'hi',
      KUMO_SOCKET: '/tmp/x.sock',
      KUMO_ENTRY: join(taskDir(buildDir), 'index.kumo.mjs'),
      KUMO_EXPORT: 'main',
      KUMO_STYLE: 'lambda',
      KUMO_FUNCTION: 'greet',
      KUMO_VERSION: '3',
      KUMO_MEMORY: '512',
      KUMO_TIMEOUT: '10000',
      KUMO_ENV_KEYS: 'GREETING,NODE_ENV',
    });
    assert.deepEqual(
      plan.mounts.map((m) => m.source).sort(),
      [nodeInstallDir(process.execPath), dirname(shim), taskDir(buildDir)].sort(),
    );
    // In a sandbox every path is neutral: nothing of the host's layout shows.
    const neutral = launchNode({
      buildDir,
      spec,
      version: 3,
      socketPath: '/run/kumo/fn.sock',
      view: { neutral: true },
    });
    assert.equal(neutral.cwd, NEUTRAL.task);
    assert.equal(neutral.env.LAMBDA_TASK_ROOT, NEUTRAL.task);
    assert.equal(neutral.env.KUMO_ENTRY, `${NEUTRAL.task}/index.kumo.mjs`);
    assert.ok(neutral.command.startsWith(`${NEUTRAL.node}/`));
    assert.ok(neutral.mounts.every((m) => m.target.startsWith('/opt/kumo/') || m.target === NEUTRAL.task));
  } finally {
    delete process.env.KUMO_TEST_SECRET;
    await rm(buildDir, { recursive: true, force: true });
  }
});

test('launch: a build without a launch record is refused with instance_failed_to_start', async () => {
  const buildDir = await mkdtemp(join(tmpdir(), 'kumo-launch-'));
  try {
    assert.throws(
      () =>
        launchNode({
          buildDir,
          spec: specOf(),
          version: 1,
          socketPath: '/tmp/x.sock',
          view: { neutral: false },
        }),
      {
        code: 'instance_failed_to_start',
      },
    );
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
});

test('heapLimitMb gives V8 three quarters of the memory limit', () => {
  assert.equal(heapLimitMb(256), 192);
  assert.equal(heapLimitMb(64), 48);
});

test('nodeInstallDir is the folder above bin/', () => {
  assert.equal(nodeInstallDir('/opt/node/bin/node'), '/opt/node');
  assert.equal(nodeInstallDir('/weird/node'), '/weird');
});

test('takeControl reads the control variables, deletes them, and collects the function variables', () => {
  const env: Record<string, string | undefined> = {
    KUMO_SOCKET: '/s.sock',
    KUMO_ENTRY: '/b/index.js',
    KUMO_EXPORT: '',
    KUMO_STYLE: 'auto',
    KUMO_FUNCTION: 'greet',
    KUMO_VERSION: '2',
    KUMO_MEMORY: '128',
    KUMO_TIMEOUT: '5000',
    KUMO_ENV_KEYS: 'A,B',
    KUMO_HOST_SOCKET: '/h.sock',
    A: '1',
    B: '',
    PATH: '/bin',
  };
  const control = takeControl(env);
  assert.deepEqual(control, {
    socketPath: '/s.sock',
    hostSocket: '/h.sock',
    entry: '/b/index.js',
    exportName: null,
    style: 'auto',
    functionName: 'greet',
    version: '2',
    memoryMb: 128,
    timeoutMs: 5000,
    vars: { A: '1', B: '' },
  });
  for (const name of CONTROL_VARIABLES) assert.equal(name in env, false, `${name} was not deleted`);
  assert.deepEqual(env, { A: '1', B: '', PATH: '/bin' });
});

test('takeControl refuses to run without a socket', () => {
  assert.throws(() => takeControl({ KUMO_ENTRY: '/x.js' }), /KUMO_SOCKET is not set/);
});
