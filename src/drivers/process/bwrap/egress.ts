/**
 * The network of a `network: true` instance: a network namespace of its own, connected to the
 * outside by pasta (Debian's `passt` package), never the host's namespace.
 *
 * pasta runs as the instance's own host uid and creates a user and network namespace holding a
 * placeholder process; the instance's launcher enters that network namespace (nsenter, as root)
 * before it drops privileges, and bwrap keeps it (`--share-net`). bwrap's own network namespace
 * cannot be used: it belongs to a user namespace bwrap nests away, which pasta could not enter.
 *
 * pasta copies the host's address and routes into the namespace and forwards the function's
 * connections from the host with ordinary sockets, so:
 * - no port is forwarded in either direction (`-t none -u none -T none -U none`): nothing the
 *   function listens on is reachable from the host, and the host's loopback is not mapped into it;
 * - the gateway is not remapped to the host (`--no-map-gw`);
 * - the namespace's own 127.0.0.1 and copy of the host's address are its own, but the host's other
 *   addresses (a second interface, a bridge, a veth) would be reached through pasta's sockets: the
 *   firewall rule below (nftables) refuses any packet from a sandbox uid to an address of the host.
 */
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { chown, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { IdRange } from './host-ids.ts';

/** How long pasta may take to set the namespace up. */
const READY_TIMEOUT_MS = 10_000;

/** The pasta options every instance gets (see the header): no forwarded ports, no host mapping. */
export const PASTA_OPTIONS = [
  '--config-net',
  '--no-map-gw',
  '-t',
  'none',
  '-u',
  'none',
  '-T',
  'none',
  '-U',
  'none',
  '--quiet',
] as const;

/** What opening a namespace needs. */
export interface EgressTools {
  pastaPath: string;
  setprivPath: string;
  sleepPath: string;
}

/** A live namespace: enter it through `netnsPath`; `close()` ends pasta and the placeholder. */
export interface Egress {
  netnsPath: string;
  close(): Promise<void>;
}

/**
 * Starts pasta as host uid/gid `id`, with its pid file in the new folder `dir` (removed on close);
 * resolves once the namespace is configured. pasta and its placeholder die with kumo (pdeathsig).
 */
export async function openEgress(tools: EgressTools, id: number, dir: string): Promise<Egress> {
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, id, id);
  const pidFile = join(dir, 'pasta.pid');
  const pasta = spawn(
    tools.setprivPath,
    [
      `--reuid=${id}`,
      `--regid=${id}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--pdeathsig=SIGKILL',
      '--',
      tools.pastaPath,
      ...PASTA_OPTIONS,
      '--pid',
      pidFile,
      '--',
      // The placeholder keeps the namespace; it dies with pasta.
      tools.setprivPath,
      '--pdeathsig=SIGKILL',
      '--',
      tools.sleepPath,
      'infinity',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: {}, cwd: '/' },
  );
  let stderr = '';
  pasta.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  let holder = 0;
  const close = async () => {
    // The placeholder too: killed before it has exec'd (and so armed its pdeathsig), it would stay.
    if (holder) killQuietly(holder);
    pasta.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pid = await pastaReady(pasta, dir, pidFile);
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    holder = Number(children.trim().split(/\s+/)[0]);
    if (!holder) throw new Error('pasta started no placeholder process');
    return { netnsPath: `/proc/${holder}/ns/net`, close };
  } catch (err) {
    await close();
    const said = stderr
      .split('\n')
      .filter((l) => l.trim() && !/syslog/.test(l))
      .join('; ');
    throw new Error(
      `pasta could not set up the network namespace: ${(err as Error).message}${said ? ` (${said})` : ''}`,
      { cause: err },
    );
  }
}

/** SIGKILLs `pid` if it still exists. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Resolves with pasta's pid once it has written its pid file (after its set-up); rejects if it exits first. */
function pastaReady(pasta: ReturnType<typeof spawn>, dir: string, pidFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(
      () => finish(new Error(`not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    const onExit = (code: number | null) => finish(new Error(`pasta exited (code ${code})`));
    const finish = (result: Error | number) => {
      clearTimeout(timer);
      watcher.close();
      pasta.off('exit', onExit);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };
    const check = () => {
      void readFile(pidFile, 'utf8').then(
        (text) => {
          const pid = Number(text.trim());
          if (pid > 0) finish(pid);
        },
        () => {}, // not written yet
      );
    };
    watcher.on('change', check);
    watcher.on('error', (err) => finish(err));
    pasta.once('exit', onExit);
    check();
  });
}

/** The nftables table name of a range's rule. */
export function firewallTable(range: IdRange): string {
  return `kumo_sandbox_${range.base}_${range.count}`;
}

/**
 * The nftables script refusing every packet a sandbox uid sends to an address of the host itself
 * (loopback, its interfaces' addresses, IPv6 link-local): pasta's sockets carry the instance's uid.
 * Replaces the range's table atomically; it stays after kumo stops (other servers may share it).
 */
export function firewallScript(range: IdRange): string {
  const table = firewallTable(range);
  const last = range.base + range.count - 1;
  return [
    `add table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    `    meta skuid ${range.base}-${last} fib daddr type local meta l4proto tcp reject with tcp reset`,
    `    meta skuid ${range.base}-${last} fib daddr type local reject`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Installs the firewall rule of `range` with `nft -f -`. */
export function installFirewall(nftPath: string, range: IdRange): Promise<void> {
  return new Promise((resolve, reject) => {
    const nft = spawn(nftPath, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'], env: {} });
    let stderr = '';
    nft.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    nft.once('error', reject);
    nft.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`nft failed (code ${code}): ${stderr.trim()}`)),
    );
    nft.stdin?.end(firewallScript(range));
  });
}
