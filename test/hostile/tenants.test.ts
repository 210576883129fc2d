/**
 * Tenants on one host (issue 12): an instance, or any other local user, must not read another
 * instance's environment (its decrypted secrets) or files, nor use its sockets; a function with
 * `network: true` reaches the outside but not the host's own services, and nothing on the host
 * reaches it; and socket families a function has no use for (AF_VSOCK) are refused.
 *
 * These tests act as root on the host (they are run as root, like the rest of the hostile suite):
 * they find an instance's processes in /proc and then act as another uid through setpriv, and
 * they stand in for "the internet" with a network namespace joined to the host by a veth pair.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { connect, createServer, type Server } from 'node:net';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from '../e2e/harness.ts';

/** Runs `args` as host uid/gid `id` with no capabilities; returns its exit status and output. */
function runAs(id: number, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', '--inh-caps=-all', '--', ...args],
    { encoding: 'utf8', timeout: 10_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The pids of the function processes (not bwrap) whose /tmp/private.txt holds `content` (read as
 * root). Found by their files rather than their initial environment: an instance started as a
 * stem cell got its variables (the secret) after exec, so /proc/PID/environ does not show them.
 */
async function pidsWithPrivateFile(content: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const exe = await readlink(`/proc/${name}/exe`).catch(() => '');
    if (!exe || exe.endsWith('/bwrap')) continue;
    const file = await readFile(`/proc/${name}/root/tmp/private.txt`, 'utf8').catch(() => '');
    if (file === content) found.push(Number(name));
  }
  return found;
}

/** The real uid of process `pid`. */
async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

/** A Node script (for runAs) that connects to a Unix socket and prints "connected" or the error code. */
const CONNECT_UNIX = `const s = require('node:net').connect(process.argv[1]);
s.on('connect', () => { console.log('connected'); s.destroy(); });
s.on('error', (e) => console.log(e.code));`;

/** Resolves with "connected" or the error code of a TCP connection from the host. */
function tcpFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('timeout', () => {
      s.destroy();
      resolve('ETIMEDOUT');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

const NOBODY = 65534;

describe('tenants on one host', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.dispose();
  });

  /** Deploys a node function `name` holding secret TOKEN=`value`, which keeps a file in its /tmp. */
  async function deployWithSecret(name: string, value: string): Promise<number> {
    const files = (rev: string) => ({
      'kumo.yaml': `name: ${name}\n`,
      'index.js': `// ${rev}
        import { writeFileSync } from 'node:fs';
        writeFileSync('/tmp/private.txt', 'private data of ${name}');
        export default () => new Response(process.env.TOKEN ? 'has token' : 'no token');\n`,
    });
    await mustDeploy(server, await writeFunction(files('v1')));
    const set = await api(server, `/functions/${name}/secrets/TOKEN`, { method: 'PUT', body: value });
    assert.ok(set.status === 200 || set.status === 201, await set.text());
    // A new version starts a new instance, which gets the secret.
    await mustDeploy(server, await writeFunction(files('v2')));
    assert.equal(await (await invoke(server, name)).text(), 'has token');
    const [pid] = await eventually(
      async () => {
        // One left: the first version's instance is gone once the second one serves.
        const pids = await pidsWithPrivateFile(`private data of ${name}`);
        return pids.length === 1 && pids;
      },
      5000,
      `the instance of ${name}`,
    );
    assert.ok(pid);
    return pid;
  }

  test("an instance's uid cannot read another function's /proc/PID/environ nor its files; nobody cannot either", async () => {
    const secretA = `secret-a-${process.pid}`;
    const secretB = `secret-b-${process.pid}`;
    const pidA = await deployWithSecret('tenant-a', secretA);
    const pidB = await deployWithSecret('tenant-b', secretB);
    const uidA = await uidOf(pidA);
    const uidB = await uidOf(pidB);
    assert.notEqual(uidA, uidB, 'two functions run as two host uids');
    assert.notEqual(uidA, 0);
    for (const [who, id] of [
      ['instance a', uidA],
      ['nobody', NOBODY],
    ] as const) {
      const environ = runAs(id, ['cat', `/proc/${pidB}/environ`]);
      assert.notEqual(environ.status, 0, `${who} read tenant-b's environment`);
      assert.equal(environ.stdout.includes(secretB), false, `${who} saw tenant-b's secret`);
      const file = runAs(id, ['cat', `/proc/${pidB}/root/tmp/private.txt`]);
      assert.notEqual(file.status, 0, `${who} read a file in tenant-b's /tmp`);
      assert.equal(file.stdout.includes('private data'), false);
    }
    // Sanity: the file is there and the check above can succeed for the right uid.
    const own = runAs(uidB, ['cat', `/proc/${pidB}/root/tmp/private.txt`]);
    assert.equal(own.stdout, 'private data of tenant-b', own.stderr);
  });

  test("a local non-root user cannot connect to a function's plugin socket nor to its instance socket", async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: tenant-kv\nplugins: [kv]\n',
      'index.js': 'export default () => new Response("ok");\n',
    });
    await mustDeploy(server, dir);
    assert.equal(await (await invoke(server, 'tenant-kv')).text(), 'ok');
    const runs = (await readdir('/dev/shm')).filter((n) => n.startsWith(`kumo-run-${process.pid}-`));
    // Every socket of every instance (an ordinary one's folders, or a stem cell's, whose host
    // channel is one folder deeper), found by walking the run folders as root.
    const sockets: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = `${dir}/${entry.name}`;
        if (entry.isSocket()) sockets.push(p);
        else if (entry.isDirectory() && depth < 3) await walk(p, depth + 1);
      }
    };
    for (const run of runs) await walk(`/dev/shm/${run}`, 1);
    assert.ok(
      sockets.some((s) => s.endsWith('host.sock')),
      `no plugin socket found in ${runs.join(', ')}`,
    );
    assert.ok(
      sockets.some((s) => s.endsWith('fn.sock')),
      'no instance socket found',
    );
    for (const socket of sockets) {
      const r = runAs(NOBODY, [process.execPath, '-e', CONNECT_UNIX, socket]);
      assert.match(r.stdout.trim(), /^(EACCES|ENOENT)$/, `nobody reached ${socket}: ${r.stdout}${r.stderr}`);
    }
  });

  test("a stem cell's copied code is readable by the cell alone: not by a local user, nor another instance's uid", async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: tenant-code\ninstances:\n  idle: 1s\n',
      'index.js':
        'import { readFileSync } from "node:fs";\nexport default () => new Response(readFileSync("/var/task/notes.txt", "utf8"));\n',
      'notes.txt': 'code-only secret of tenant-code',
    });
    await mustDeploy(server, dir);
    // Scaled to zero with a cell of its shape ready: the next request is a cell's assignment.
    await eventually(
      async () => {
        const fn = await apiJson<{ instances: { total: number } }>(server, '/functions/tenant-code');
        const { stemCells: cells } = await apiJson<{ stemCells: { ready: number; starting: number } }>(
          server,
          '/status',
        );
        return fn.instances.total === 0 && cells.ready > 0 && cells.starting === 0;
      },
      30_000,
      'tenant-code scaled to zero and a ready stem cell',
    );
    // The cell itself reads it (its code folder was filled at the assignment).
    assert.equal(await (await invoke(server, 'tenant-code')).text(), 'code-only secret of tenant-code');
    const runs = (await readdir('/dev/shm')).filter((n) => n.startsWith(`kumo-run-${process.pid}-`));
    const copies: string[] = [];
    for (const run of runs)
      for (const name of await readdir(`/dev/shm/${run}`).catch(() => []))
        if (name.startsWith('cell-') && name.endsWith('.task')) {
          const file = `/dev/shm/${run}/${name}/notes.txt`;
          if ((await readFile(file, 'utf8').catch(() => '')).includes('tenant-code')) copies.push(file);
        }
    assert.ok(copies.length > 0, `no stem cell holds tenant-code's code in ${runs.join(', ')}`);
    for (const file of copies) {
      const owner = statSync(path.dirname(file)).uid;
      assert.notEqual(owner, 0, "the cell's code folder is given to the cell's uid");
      for (const [who, id] of [
        ['nobody', NOBODY],
        ["another instance's uid", owner + 1],
      ] as const) {
        const r = runAs(id, ['cat', file]);
        assert.notEqual(r.status, 0, `${who} read ${file}`);
        assert.equal(r.stdout.includes('code-only secret'), false, `${who} saw the code`);
      }
      // Sanity: the cell's own uid can, so the refusals above are about the uid.
      assert.equal(runAs(owner, ['cat', file]).stdout, 'code-only secret of tenant-code');
    }
  });

  test('seccomp refuses AF_VSOCK and AF_ALG sockets; AF_UNIX, AF_INET and AF_INET6 still work', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: tenant-vsock\nruntime: python\n',
      'lambda.py': [
        'import socket',
        'def attempt(family, kind):',
        '    try:',
        '        socket.socket(family, kind).close()',
        '        return "created"',
        '    except OSError as e:',
        '        return e.errno',
        'def main(input, environment):',
        '    return {',
        '        "vsock": attempt(40, socket.SOCK_STREAM),',
        '        "alg": attempt(38, socket.SOCK_SEQPACKET),',
        '        "unix": attempt(socket.AF_UNIX, socket.SOCK_STREAM),',
        '        "inet": attempt(socket.AF_INET, socket.SOCK_STREAM),',
        '        "inet6": attempt(socket.AF_INET6, socket.SOCK_DGRAM),',
        '    }',
        '',
      ].join('\n'),
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'tenant-vsock');
    assert.equal(res.status, 200);
    const EAFNOSUPPORT = 97;
    assert.deepEqual(await res.json(), {
      vsock: EAFNOSUPPORT,
      alg: EAFNOSUPPORT,
      unix: 'created',
      inet: 'created',
      inet6: 'created',
    });
  });
});

/** An `ip netns` peer joined to the host by a veth pair: a stand-in for a server on the internet. */
interface Peer {
  name: string;
  hostAddress: string;
  peerAddress: string;
  service: ChildProcess;
  port: number;
}

async function startPeer(): Promise<Peer> {
  const name = `kumo-peer-${process.pid}`;
  const link = `kp${process.pid % 100000}`;
  const net = `10.213.${process.pid % 256}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('netns', 'add', name);
  ip('link', 'add', `${link}a`, 'type', 'veth', 'peer', 'name', `${link}b`);
  ip('link', 'set', `${link}b`, 'netns', name);
  ip('addr', 'add', `${net}.1/30`, 'dev', `${link}a`);
  ip('link', 'set', `${link}a`, 'up');
  ip('netns', 'exec', name, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', `${link}b`);
  ip('netns', 'exec', name, 'ip', 'link', 'set', `${link}b`, 'up');
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  const service = spawn(
    'ip',
    [
      'netns',
      'exec',
      name,
      process.execPath,
      '-e',
      `const s = require('node:net').createServer((c) => c.end('hello from the internet'));
       s.listen(0, '${net}.2', () => console.log(s.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    service.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    service.once('exit', (code) => reject(new Error(`the peer service exited (${code})`)));
  });
  return { name, hostAddress: `${net}.1`, peerAddress: `${net}.2`, service, port };
}

function stopPeer(peer: Peer | undefined): void {
  if (!peer) return;
  peer.service.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', peer.name]);
}

/** A function that, on request, connects somewhere or listens, and says what happened. */
const PROBE_FUNCTION = `import net from 'node:net';
let listening;
const attempt = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 2000 });
  let data = '';
  s.on('data', (d) => (data += d));
  s.once('end', () => resolve(data || 'connected'));
  s.once('timeout', () => { s.destroy(); resolve('ETIMEDOUT'); });
  s.once('error', (e) => resolve(e.code));
});
export default async (request) => {
  const url = new URL(request.url);
  if (url.pathname === '/listen') {
    listening ??= await new Promise((resolve) => {
      const s = net.createServer((c) => c.end('inside'));
      s.listen(0, '0.0.0.0', () => resolve(s.address().port));
    });
    return Response.json({ port: listening });
  }
  const targets = JSON.parse(url.searchParams.get('targets'));
  const out = {};
  for (const [host, port] of targets) out[host + ':' + port] = await attempt(host, port);
  return Response.json(out);
};
`;

describe('network: true', () => {
  let server: TestServer;
  let peer: Peer | undefined;
  let hostService: Server;
  let hostPort = 0;

  before(async () => {
    server = await startTestServer();
    peer = await startPeer();
    // A service of the host on every address (loopback, the host's own, the veth's host side).
    hostService = createServer((c) => c.end('host service'));
    await new Promise<void>((resolve) => hostService.listen(0, '0.0.0.0', resolve));
    hostPort = (hostService.address() as { port: number }).port;
  });
  after(async () => {
    hostService?.close();
    stopPeer(peer);
    await server.dispose();
  });

  /** The host's addresses other than loopback (IPv4). */
  const hostAddresses = () =>
    Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a?.address ?? '');

  test('reaches a server outside the host, not the host loopback nor any other address of the host', async () => {
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: tenant-net\nnetwork: true\n', 'index.js': PROBE_FUNCTION }),
    );
    assert.ok(peer);
    const targets: [string, number][] = [
      [peer.peerAddress, peer.port],
      ['127.0.0.1', hostPort],
      ...hostAddresses().map((a): [string, number] => [a, hostPort]),
    ];
    assert.ok(
      targets.some(([h]) => h === peer?.hostAddress),
      'the veth host side is a host address',
    );
    const res = await invoke(
      server,
      'tenant-net',
      `/?targets=${encodeURIComponent(JSON.stringify(targets))}`,
    );
    assert.equal(res.status, 200);
    const out = (await res.json()) as Record<string, string>;
    assert.equal(out[`${peer.peerAddress}:${peer.port}`], 'hello from the internet', JSON.stringify(out));
    for (const [host, port] of targets.slice(1)) {
      assert.notEqual(out[`${host}:${port}`], 'host service', `the function reached the host at ${host}`);
      assert.match(
        out[`${host}:${port}`] ?? '',
        /^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|ECONNRESET)$/,
      );
    }
  });

  test('a port the function listens on is not reachable from the host', async () => {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: tenant-listen\nnetwork: true\n',
        'index.js': PROBE_FUNCTION,
      }),
    );
    const res = await invoke(server, 'tenant-listen', '/listen');
    assert.equal(res.status, 200);
    const { port } = (await res.json()) as { port: number };
    for (const host of ['127.0.0.1', ...hostAddresses()]) {
      assert.notEqual(
        await tcpFromHost(host, port),
        'connected',
        `the host reached the function at ${host}:${port}`,
      );
    }
  });
});
