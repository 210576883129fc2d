/**
 * One host uid per sandboxed process tree (an instance or a build), from a reserved range, so that
 * no instance — and no other local user — shares a uid with another instance. The kernel lets a
 * process read another's /proc/PID/environ, /proc/PID/root (its /tmp) and enter its user
 * namespace only when their uids match; with 65534 for everyone, any `nobody` process could.
 *
 * The uid doubles as the gid. Ids are claimed host-wide with one file per id in a root-only
 * folder (`O_EXCL`, holding the claiming server's pid), since several kumo servers (and parallel
 * tests) may share a host and a range. A claim whose server is gone is taken over only when no
 * process runs as that uid any more.
 */
import { lstat, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../leftovers.ts';

/** A range of host ids: `count` ids from `base`. */
export interface IdRange {
  base: number;
  count: number;
}

/**
 * The default range: 0x70000000 and the 65,536 ids after it, above what useradd hands out as
 * subordinate ids (100000–600100000 by default) and what systemd-nspawn picks (524288–0x6FFFFFFF),
 * below 2^31 (tools that treat uids as signed).
 */
export const DEFAULT_ID_RANGE: IdRange = { base: 0x70000000, count: 65536 };

/** Where claims live unless told otherwise (root-only, on tmpfs: a reboot frees everything). */
export const DEFAULT_CLAIM_DIR = '/run/kumo/ids';

/** Parses `BASE:COUNT` (e.g. `1879048192:65536`); throws a message naming the rule broken. */
export function parseIdRange(text: string): IdRange {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  const base = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || base < 1000 || count < 1 || base + count > 2 ** 31 - 1) {
    throw new Error(
      `the sandbox id range must be BASE:COUNT with BASE >= 1000 and BASE+COUNT below 2^31 (got ${JSON.stringify(text)})`,
    );
  }
  return { base, count };
}

/** Why `range` is unsafe on this host (an existing user, group or subordinate range overlaps it), or []. */
export async function rangeOverlaps(range: IdRange, etc = '/etc'): Promise<string[]> {
  const end = range.base + range.count - 1;
  const inRange = (id: number) => id >= range.base && id <= end;
  const problems: string[] = [];
  for (const [file, what] of [
    ['passwd', 'user'],
    ['group', 'group'],
  ] as const) {
    const text = await readFile(join(etc, file), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined && inRange(Number(id))) problems.push(`${what} ${name} has id ${id}`);
    }
  }
  for (const file of ['subuid', 'subgid']) {
    const text = await readFile(join(etc, file), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const [name, start, count] = line.split(':');
      if (!name || start === undefined || count === undefined) continue;
      const first = Number(start);
      const last = first + Number(count) - 1;
      if (first <= end && last >= range.base) problems.push(`${file} gives ${name} ${first}-${last}`);
    }
  }
  return problems;
}

/** A claimed id; `release()` hands it back (once). */
export interface HostId {
  id: number;
  release(): Promise<void>;
}

/** Hands out ids of one range, never one that a live process of another claim holds. */
export class HostIds {
  readonly range: IdRange;
  private readonly claimDir: string;
  private readonly held = new Set<number>();
  private cursor: number;
  private ready: Promise<void> | undefined;

  constructor(range: IdRange = DEFAULT_ID_RANGE, claimDir = DEFAULT_CLAIM_DIR) {
    this.range = range;
    this.claimDir = claimDir;
    // Servers sharing a range start at different places, so they rarely race for the same id.
    this.cursor = Math.floor(Math.random() * range.count);
  }

  /** Claims a free id; throws when the whole range is in use. */
  async claim(): Promise<HostId> {
    await (this.ready ??= this.prepareDir());
    const { base, count } = this.range;
    for (let i = 0; i < count; i++) {
      const id = base + ((this.cursor + i) % count);
      if (this.held.has(id) || !(await this.take(id))) continue;
      // The next claim starts after this one: a just-released id is reused last.
      this.cursor = (this.cursor + i + 1) % count;
      this.held.add(id);
      let released = false;
      return {
        id,
        release: async () => {
          if (released) return;
          released = true;
          this.held.delete(id);
          await rm(join(this.claimDir, String(id)), { force: true });
        },
      };
    }
    throw new Error(`all ${count} sandbox ids from ${base} are in use`);
  }

  /** Creates the claim file of `id`, or takes over one whose server and processes are gone. */
  private async take(id: number): Promise<boolean> {
    const file = join(this.claimDir, String(id));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number(await readFile(file, 'utf8').catch(() => ''));
      // A claim being written (empty) or a live server's is not ours to take.
      if (!owner || owner === process.pid || processAlive(owner) || (await uidInUse(id))) return false;
      await rm(file, { force: true });
    }
    return false;
  }

  /** The claim folder must be a real folder only root can write (a planted one would let others claim). */
  private async prepareDir(): Promise<void> {
    await mkdir(this.claimDir, { recursive: true, mode: 0o700 });
    const st = await lstat(this.claimDir);
    if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? 0) || st.mode & 0o022) {
      throw new Error(`${this.claimDir} must be a folder owned by kumo's user and writable by it alone`);
    }
  }
}

/** Whether any process runs as `uid` (a rare check: only before taking over a dead server's claim). */
async function uidInUse(uid: number): Promise<boolean> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    if (m && m.slice(1).some((u) => Number(u) === uid)) return true;
  }
  return false;
}
