/**
 * Whether the unprivileged host user that bubblewrap runs as can reach a path. bwrap resolves its
 * bind sources with that user's rights, so a build folder under a `chmod 700` data directory
 * would fail deep inside bwrap with a terse message; checking first names the folder to fix.
 */
import { realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';

/** Read, write and search bits of the permission class that applies to `uid`/`gid`. */
function classBits(mode: number, owner: number, group: number, uid: number, gid: number): number {
  if (owner === uid) return (mode >> 6) & 7;
  if (group === gid) return (mode >> 3) & 7;
  return mode & 7;
}

/** Why `uid`/`gid` cannot use `path` (`need`: "read" a file or folder, or "write" a folder), or undefined. */
export async function accessProblem(
  path: string,
  uid: number,
  gid: number,
  need: 'read' | 'write',
): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return `${path} does not exist (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  const parts = real.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join('/')}`;
    const st = await stat(dir);
    if (!(classBits(st.mode, st.uid, st.gid, uid, gid) & 1)) {
      return `uid ${uid} cannot enter ${dir} (mode ${(st.mode & 0o777).toString(8)}): run chmod o+x ${dir}`;
    }
  }
  const st = await stat(real);
  const bits = classBits(st.mode, st.uid, st.gid, uid, gid);
  const wanted = st.isDirectory() ? (need === 'write' ? 7 : 5) : st.mode & 0o111 ? 5 : 4;
  if ((bits & wanted) === wanted) return undefined;
  const fix = need === 'write' ? `chown ${uid}:${gid} ${real}` : `chmod -R o+rX ${real}`;
  return `uid ${uid} cannot ${need} ${real === posix.normalize(path) ? real : `${path} (${real})`}: run ${fix}`;
}
