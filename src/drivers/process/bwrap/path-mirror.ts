/**
 * Read-only paths the sandbox's unprivileged host user cannot reach (a checkout under a 0700
 * folder, a data directory in /root) are mirrored once into a staging folder it can reach, and
 * bound at their original place inside the sandbox: the function sees the same paths either way.
 * Files are hard-linked where the filesystem allows (instant, no space), copied otherwise.
 */
import { createHash } from 'node:crypto';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
} from 'node:fs/promises';
import path from 'node:path';
import { accessProblem } from './path-access.ts';

/** Maps host paths to sources the sandbox user can bind. */
export class PathMirror {
  private readonly stageDir: string;
  private readonly uid: number;
  private readonly gid: number;
  private readonly mirrors = new Map<string, Promise<string>>();

  /** `stageDir` must be reachable by uid/gid (e.g. a 0711 folder in /tmp). */
  constructor(stageDir: string, uid: number, gid: number) {
    this.stageDir = stageDir;
    this.uid = uid;
    this.gid = gid;
  }

  /** `p` itself when the sandbox user can read it, else its mirror (made on first use). */
  async sourceFor(p: string): Promise<string> {
    if (!(await accessProblem(p, this.uid, this.gid, 'read'))) return p;
    let mirror = this.mirrors.get(p);
    if (!mirror) {
      mirror = this.mirror(p);
      this.mirrors.set(p, mirror);
      mirror.catch(() => this.mirrors.delete(p));
    }
    return mirror;
  }

  /** Removes the staged copy of `p` (and of anything below it), if there is one. */
  async forget(p: string): Promise<void> {
    const inside = (q: string) => q === p || q.startsWith(`${p}/`);
    for (const [q, mirror] of [...this.mirrors]) {
      if (!inside(q)) continue;
      this.mirrors.delete(q);
      const dest = await mirror.catch(() => undefined);
      if (dest) await rm(dest, { recursive: true, force: true });
    }
  }

  private async mirror(p: string): Promise<string> {
    const dest = path.join(this.stageDir, createHash('sha256').update(p).digest('hex').slice(0, 24));
    const tmp = `${dest}.${process.pid}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await copyTree(p, tmp);
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
    return dest;
  }
}

/** Copies `src` to `dest` (hard links for files when possible), readable by everyone. */
async function copyTree(src: string, dest: string): Promise<void> {
  const st = await lstat(src);
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
  } else if (st.isDirectory()) {
    await mkdir(dest, { recursive: true });
    await chmod(dest, 0o755);
    for (const name of await readdir(src)) await copyTree(path.join(src, name), path.join(dest, name));
  } else if (st.isFile()) {
    if (st.mode & 0o044 && st.mode & 0o004) {
      try {
        await link(src, dest);
        return;
      } catch {
        // another filesystem: copy instead
      }
    }
    await copyFile(src, dest);
    await chmod(dest, st.mode & 0o111 ? 0o755 : 0o644);
  }
}
