import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { COMMANDS, runCli } from './run.ts';
import { captureIO } from './fake-server.ts';

async function run(argv: string[], options: Parameters<typeof captureIO>[0] = {}) {
  const captured = captureIO(options);
  const code = await runCli(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** A URL where nothing listens: a port that was free a moment ago. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}

test('kumo --help lists every command, including up with its flags', async () => {
  for (const argv of [['--help'], ['help'], ['-h']]) {
    const { code, stdout, stderr } = await run(argv);
    assert.equal(code, 0);
    assert.equal(stderr, '');
    assert.match(stdout, /up \[--port 8080\] \[--data DIR\] \[--host 127\.0\.0\.1\]/);
    for (const command of [
      'deploy PATH',
      'invoke NAME',
      'list',
      'logs NAME',
      'versions NAME',
      'rollback NAME',
      'delete NAME',
    ]) {
      assert.ok(stdout.includes(`  ${command}`), `help lists ${command}`);
    }
  }
});

test('every command answers --help with its usage and exit 0', async () => {
  for (const command of COMMANDS) {
    const { code, stdout } = await run([command.name, '--help']);
    assert.equal(code, 0, command.name);
    assert.ok(stdout.startsWith(`Usage: kumo ${command.name}`), command.name);
    assert.match(stdout, /--json/, `${command.name} documents --json`);
    const viaHelp = await run(['help', command.name]);
    assert.equal(viaHelp.stdout, stdout);
  }
});

test('kumo --version prints the package version', async () => {
  const { code, stdout } = await run(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout, `kumo ${pkg.version}\n`);
});

test('an unknown command exits 2 with a one-line reason and the usage', async () => {
  const { code, stdout, stderr } = await run(['frob']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /^kumo: unknown command 'frob'\nUsage: kumo COMMAND/);
  assert.match(stderr, /deploy, invoke, list, logs, versions, rollback, delete/);
});

test('no command at all exits 2', async () => {
  const { code, stderr } = await run([]);
  assert.equal(code, 2);
  assert.match(stderr, /^kumo: missing command\n/);
});

test('an unknown flag exits 2 naming the flag and the command usage', async () => {
  const { code, stderr } = await run(['list', '--frob']);
  assert.equal(code, 2);
  assert.equal(
    stderr,
    "kumo: unknown option '--frob'\nUsage: kumo list\nRun 'kumo list --help' for details.\n",
  );
});

test('usage errors exit 2 before any request is made', async () => {
  const cases: [string[], RegExp][] = [
    [['logs'], /^kumo: missing NAME\n/],
    [['versions', 'a', 'b'], /^kumo: unexpected argument "b"\n/],
    [['invoke', 'Not_A_Name'], /is not a function name/],
    [['rollback', 'greet', '--to', 'two'], /--to must be a whole number/],
    [['logs', 'greet', '--limit', '0'], /--limit must be a whole number of at least 1/],
    [['deploy', '.', '--env', 'NOEQUALS'], /--env takes KEY=VALUE/],
    [['deploy'], /missing PATH/],
    [['invoke', 'greet', '--data', 'x', '--data-file', 'f'], /either --data or --data-file/],
    [['invoke', 'greet', '--header', 'no colon'], /--header takes 'Name: value'/],
    [['invoke', 'greet', '--method', 'GET', '--data', 'x'], /a GET request cannot carry --data/],
    [['invoke', 'greet', '--path', '/../admin'], /--path must not contain "\.\."/],
    [['list', '--url', 'not a url'], /is not a URL/],
    [['list', '--url', 'ftp://x'], /must start with http/],
  ];
  // Nothing listens here: reaching the network would fail differently (exit 1).
  const url = await closedPortUrl();
  for (const [argv, message] of cases) {
    const { code, stderr } = await run(argv, { env: { KUMO_URL: url } });
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr, message, argv.join(' '));
  }
});

test('a server that is not running is one line saying how to start it', async () => {
  const url = await closedPortUrl();
  for (const argv of [['list'], ['logs', 'greet'], ['invoke', 'greet'], ['delete', 'greet', '--yes']]) {
    const { code, stdout, stderr } = await run(argv, { env: { KUMO_URL: url } });
    assert.equal(code, 1, argv.join(' '));
    assert.equal(stdout, '');
    assert.equal(stderr.split('\n').length, 2, `one line: ${stderr}`);
    assert.match(
      stderr,
      new RegExp(
        `^kumo: no kumo server is running at ${url}: start it with \`npm start\` or \`npx kumo up\``,
      ),
    );
  }
});

test('--url wins over KUMO_URL', async () => {
  const url = await closedPortUrl();
  const { stderr } = await run(['list', '--url', url], { env: { KUMO_URL: 'http://127.0.0.1:1' } });
  assert.ok(stderr.includes(url), stderr);
});

test('kumo up without a server attached points to bin/kumo.js, and its help is known', async () => {
  const refused = await run(['up']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /npx kumo up/);
  const help = await run(['up', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: kumo up \[--port 8080\]/);
});

test('kumo up runs the server passed in as io.up with the remaining arguments', async () => {
  const captured = captureIO();
  let seen: string[] = [];
  captured.io.up = async (argv) => {
    seen = argv;
    return 7;
  };
  assert.equal(await runCli(['up', '--port', '0'], captured.io), 7);
  assert.deepEqual(seen, ['--port', '0']);
});

test('deploying a folder that does not exist fails with exit 1 before contacting the server', async (t) => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'kumo-args-'));
  t.after(() => rm(cwd, { recursive: true, force: true }));
  const { code, stderr } = await run(['deploy', 'nope'], { cwd, env: { KUMO_URL: await closedPortUrl() } });
  assert.equal(code, 1);
  assert.equal(stderr, `kumo: ${path.join(cwd, 'nope')} does not exist\n`);
});
