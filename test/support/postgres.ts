/**
 * A throwaway PostgreSQL for tests (unit tests under src/ and e2e tests alike). Each call of
 * startPostgres starts its own server (initdb into a fresh temporary folder, a free port on
 * 127.0.0.1 and a Unix socket in that folder, fsync off unless `durable`), so test files running at once never
 * share one; stop() ends it and removes the folder. When KUMO_TEST_POSTGRES names a server
 * (postgres://user:pass@host:port/db), that one is used instead: createDatabase makes fresh
 * databases in it and stop() drops them.
 *
 * PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` user of
 * Debian's package (or a system user `kumo-pg` made for it when that is missing), through runuser.
 * When Debian's PostgreSQL is not installed, it is installed with apt-get (root only).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

const run = promisify(execFile);

/** How the server is started. */
export interface StartOptions {
  /**
   * Durable commits, as a production server makes them (fsync, synchronous_commit and full page
   * writes on): what a benchmark of durable writes must measure. Tests leave them off (speed).
   */
  durable?: boolean;
}

/** A PostgreSQL server for one test file. */
export interface TestPostgres {
  /** URL of the server's maintenance database (with user and password). */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** A fresh, empty database on the server; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and removes its folder (an external server: drops the databases made here). */
  stop(): Promise<void>;
  /**
   * Stops the server but keeps its data and port, to start it again with resume() (a store
   * outage). Not available on an external server (KUMO_TEST_POSTGRES).
   */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port, with the same data; resolves once it accepts connections. */
  resume(): Promise<void>;
  /** Whether the server is running (false between pause and resume, and after stop). */
  readonly running: boolean;
  /** The server's temporary folder (data, socket, log); undefined for an external server. */
  folder: string | undefined;
}

/** Starts a throwaway PostgreSQL (or uses the one KUMO_TEST_POSTGRES names). */
export async function startPostgres(options: StartOptions = {}): Promise<TestPostgres> {
  const external = process.env.KUMO_TEST_POSTGRES;
  if (external) return useExternal(external);
  let lastError: unknown;
  // The free port is only free when looked at: another test may take it first, so try again.
  for (let tries = 0; tries < 3; tries++) {
    try {
      return await startOwn(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** Databases made on an external server, dropped by stop(). */
async function useExternal(url: string): Promise<TestPostgres> {
  const parsed = new URL(url);
  const admin = postgres(url, { max: 2, onnotice: () => {} });
  const made: string[] = [];
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    running: true,
    folder: undefined,
    async createDatabase() {
      const name = `kumo_test_${randomBytes(6).toString('hex')}`;
      await admin.unsafe(`CREATE DATABASE ${name}`);
      made.push(name);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async stop() {
      for (const name of made.splice(0)) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
    pause: () => Promise.reject(new Error('pause: KUMO_TEST_POSTGRES names a server this test does not own')),
    resume: () =>
      Promise.reject(new Error('resume: KUMO_TEST_POSTGRES names a server this test does not own')),
  };
}

/** Servers of this process still running, stopped at exit if a test forgot (or the run was cut short). */
const live = new Map<string, { bin: string; data: string; user: string | undefined }>();
process.once('exit', () => {
  for (const [dir, s] of live) {
    spawnSync(...asUser(s.user, path.join(s.bin, 'pg_ctl'), ['stop', '-D', s.data, '-m', 'immediate']), {
      stdio: 'ignore',
    });
    rmSync(dir, { recursive: true, force: true });
  }
});

async function startOwn(options: StartOptions): Promise<TestPostgres> {
  const bin = await postgresBin();
  const user = await serverUser();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  let running = false;
  try {
    if (user !== undefined) {
      const { uid, gid } = await idsOf(user);
      await chown(dir, uid, gid);
    }
    await chmod(dir, 0o700);
    const pwfile = path.join(dir, 'pw');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (user !== undefined) {
      const { uid, gid } = await idsOf(user);
      await chown(pwfile, uid, gid);
    }
    // scram over TCP (so a test can check a password never leaks), trust on the folder's socket.
    await run(
      ...asUser(user, path.join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'kumo',
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
    );
    await rm(pwfile);
    live.set(dir, { bin, data, user });
    const start = async () => {
      await run(
        ...asUser(user, path.join(bin, 'pg_ctl'), [
          'start',
          '-D',
          data,
          '-w',
          '-t',
          '60',
          '-l',
          path.join(dir, 'server.log'),
          '-o',
          [
            `-p ${port}`,
            `-k ${dir}`,
            '-c listen_addresses=127.0.0.1',
            ...(options.durable
              ? []
              : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
            '-c max_connections=200',
            '-c shared_buffers=32MB',
          ].join(' '),
        ]),
      );
      running = true;
    };
    const halt = async () => {
      running = false;
      await run(...asUser(user, path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']));
    };
    await start();
    const url = `postgres://kumo:${password}@127.0.0.1:${port}/postgres`;
    const admin = postgres(url, { max: 2, onnotice: () => {} });
    let n = 0;
    return {
      url,
      host: '127.0.0.1',
      port,
      user: 'kumo',
      password,
      get running() {
        return running;
      },
      folder: dir,
      async createDatabase() {
        const name = `kumo_${++n}_${randomBytes(3).toString('hex')}`;
        await admin.unsafe(`CREATE DATABASE ${name}`);
        return `postgres://kumo:${password}@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        await admin.end({ timeout: 1 });
        if (running) await halt();
        live.delete(dir);
        await rm(dir, { recursive: true, force: true });
      },
      async pause() {
        // The admin pool would otherwise hold a dead connection and fail its next query once.
        await admin.end({ timeout: 1 });
        await halt();
      },
      async resume() {
        await start();
      },
    };
  } catch (err) {
    live.delete(dir);
    if (running)
      await run(...asUser(user, path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate'])).catch(
        () => {},
      );
    const log = path.join(dir, 'server.log');
    const tail = existsSync(log) ? spawnSync('tail', ['-n', '20', log]).stdout.toString() : '';
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `could not start a test PostgreSQL: ${(err as Error).message}${tail ? `\n${tail}` : ''}`,
      {
        cause: err,
      },
    );
  }
}

/** `file args` as run by `user` (runuser when root), or as this process when `user` is undefined. */
function asUser(user: string | undefined, file: string, args: string[]): [string, string[]] {
  return user === undefined ? [file, args] : ['runuser', ['-u', user, '--', file, ...args]];
}

/** The folder of initdb and pg_ctl: Debian's newest PostgreSQL, installed with apt-get when missing. */
async function postgresBin(): Promise<string> {
  const found = findBin();
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error('PostgreSQL is not installed: apt-get install postgresql-15, or set KUMO_TEST_POSTGRES');
  await installOnce();
  const after = findBin();
  if (!after) throw new Error('PostgreSQL was installed but no initdb was found under /usr/lib/postgresql');
  return after;
}

function findBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

let installing: Promise<void> | undefined;
function installOnce(): Promise<void> {
  installing ??= (async () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', 'postgresql-15'], { env, maxBuffer: 16 * 1024 * 1024 });
  })();
  return installing;
}

/** Who runs the server: nobody special when not root; `postgres` (or a new `kumo-pg`) when root. */
async function serverUser(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'kumo-pg']) {
    if (spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0) return name;
  }
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'kumo-pg']).catch(
    (err: unknown) => {
      // Another test file may have made it at the same moment.
      if (spawnSync('id', ['-u', 'kumo-pg'], { stdio: 'ignore' }).status !== 0) throw err;
    },
  );
  return 'kumo-pg';
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', user])).stdout.trim());
  const gid = Number((await run('id', ['-g', user])).stdout.trim());
  return { uid, gid };
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
