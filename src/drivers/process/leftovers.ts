/**
 * What a kumo server leaves behind when it cannot stop cleanly (kill -9, a crash, a power cut):
 * its temporary folders (instance sockets, sandbox files, mirrors, bundled shims) and its
 * instances' cgroups. Each carries the pid of the server that made it (`kumo-run-<pid>-…`,
 * `k<pid>.<instance>`), so the next server to start removes exactly those whose server is gone
 * and never touches a running server's. A pid reused by an unrelated process only delays the
 * clean-up; servers in other pid namespaces that share the same /tmp are not supported.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The kinds of temporary folders a server makes. */
export type TempKind = 'run' | 'sandbox' | 'stage' | 'shims';

const TEMP_NAME = /^kumo-(run|sandbox|stage|shims)-(\d+)-/;

/** A new private temporary folder in `base`, named after this server's pid. */
export function ownedTempDir(base: string, kind: TempKind): Promise<string> {
  return mkdtemp(join(base, `kumo-${kind}-${process.pid}-`));
}

/** The pid in an owned temporary folder's name, if it is one. */
export function tempDirOwner(name: string): number | undefined {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[2]) : undefined;
}

/** Whether process `pid` exists (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Removes the owned temporary folders in `bases` whose server is gone; returns how many. */
export async function sweepTempDirs(bases: string[]): Promise<number> {
  let removed = 0;
  for (const base of new Set(bases)) {
    const names = await readdir(base).catch(() => [] as string[]);
    for (const name of names) {
      const owner = tempDirOwner(name);
      if (owner === undefined || owner === process.pid || processAlive(owner)) continue;
      const gone = await rm(join(base, name), { recursive: true, force: true }).then(
        () => true,
        () => false, // another user's: not ours to remove
      );
      if (gone) removed++;
    }
  }
  return removed;
}
