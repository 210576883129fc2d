/**
 * The in-memory model of a bundle (path → file | folder | symlink) that every source goes through:
 * uploaded tar.gz and zip archives before anything is written, git clones after an lstat walk.
 *
 * Checking each symlink textually against its own folder is not enough: `q -> .`, `u -> q/..`
 * each look harmless, yet `u` is the bundle's parent on disk, and a later entry `u/x` would be
 * written through it. So the model refuses any entry under a symlink (or a file), refuses the
 * same path twice, and resolves every symlink *physically* against the whole tree — following
 * chains, applying `..` to the real parent, as the kernel does — refusing any that leaves the
 * root at any step. Writing then creates folders, then files (O_EXCL | O_NOFOLLOW), then
 * symlinks last, so nothing is ever written through a link.
 */
import { constants } from 'node:fs';
import { chmod, copyFile, link, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { SpooledFile } from './spool.ts';

/** One entry as a source lists it: a relative path with `/` separators, as in the archive. */
export type BundleEntry =
  | { kind: 'dir'; path: string }
  | {
      kind: 'file';
      path: string;
      executable: boolean;
      /** May still be filled after add() by a streaming reader; only write() reads it. */
      data: Buffer[];
      /**
       * Or the contents already on disk (a spool file, spool.ts), set by a streaming reader before
       * write(): linked into place instead of written. The caller owns the file's folder.
       */
      spooled?: { file?: SpooledFile };
    }
  | { kind: 'symlink'; path: string; target: string };

/** Most symlinks followed while resolving one, as Linux's MAXSYMLINKS: more is refused as a loop. */
export const MAX_SYMLINK_HOPS = 40;

/** Longest symlink target accepted (Linux's PATH_MAX). */
const MAX_TARGET_LENGTH = 4096;

/** How a tree names its refusals: the caller picks the error code and message prefix. */
export interface BundleTreeOptions {
  /** Makes the error thrown for `reason`, which names the entry with JSON.stringify. */
  refuse: (reason: string) => Error;
  /** What the root is called in refusals ("bundle", "repository"). */
  rootName?: string;
}

interface DirNode {
  kind: 'dir';
  path: string;
  parent: DirNode | undefined;
  children: Map<string, Node>;
}

interface FileNode {
  kind: 'file';
  path: string;
  executable: boolean;
  data: Buffer[];
  spooled: { file?: SpooledFile } | undefined;
}

interface LinkNode {
  kind: 'symlink';
  path: string;
  target: string;
  parent: DirNode;
  /** Memo of the resolution, so a long chain costs its length once, not once per use. */
  resolved?: Resolved;
  resolving?: boolean;
}

type Node = DirNode | FileNode | LinkNode;

/**
 * Names below `dir` that do not exist in the tree, innermost first (a persistent list, so taking
 * a memoised resolution is O(1)). A missing name is treated as a folder that could appear later.
 */
interface Missing {
  name: string;
  up: Missing | undefined;
}

/** Where a symlink leads: a real folder of the tree plus missing names under it. */
interface Resolved {
  dir: DirNode;
  below: Missing | undefined;
  /** Symlinks followed on the way, counted as the kernel counts them. */
  hops: number;
}

const q = JSON.stringify;

/** A bundle's entries, checked as they are added and resolved as a whole before writing. */
export class BundleTree {
  private readonly root: DirNode = { kind: 'dir', path: '', parent: undefined, children: new Map() };
  private readonly refuse: (reason: string) => Error;
  private readonly rootName: string;
  private readonly links: LinkNode[] = [];
  private readonly files: FileNode[] = [];
  private checked = false;

  constructor(options: BundleTreeOptions) {
    this.refuse = options.refuse;
    this.rootName = options.rootName ?? 'bundle';
  }

  /** Adds one entry; throws if its path is bad, lies under a symlink or file, or repeats a path. */
  add(entry: BundleEntry): void {
    const parts = this.parts(entry.path);
    if (entry.kind === 'symlink') {
      const target = entry.target;
      if (target === '' || target.includes('\0'))
        throw this.refuse(`symlink ${q(entry.path)} has an empty or NUL target`);
      if (target.startsWith('/')) throw this.refuse(`symlink ${q(entry.path)} points to an absolute path`);
      if (target.length > MAX_TARGET_LENGTH)
        throw this.refuse(`symlink ${q(entry.path)} has a target longer than ${MAX_TARGET_LENGTH}`);
    }
    const name = parts.pop();
    if (name === undefined) {
      if (entry.kind === 'dir') return; // the root itself ("./")
      throw this.refuse(`entry ${q(entry.path)} has an empty path`);
    }
    let dir = this.root;
    for (const part of parts) {
      const child = dir.children.get(part);
      if (child === undefined) {
        const made: DirNode = { kind: 'dir', path: join(dir.path, part), parent: dir, children: new Map() };
        dir.children.set(part, made);
        dir = made;
      } else if (child.kind === 'dir') dir = child;
      else
        throw this.refuse(
          `entry ${q(entry.path)} lies inside ${child.kind === 'symlink' ? 'symlink' : 'file'} ${q(child.path)}`,
        );
    }
    const at = join(dir.path, name);
    const existing = dir.children.get(name);
    if (existing !== undefined) {
      if (existing.kind === 'dir' && entry.kind === 'dir') return;
      throw this.refuse(`entry ${q(entry.path)} appears twice (as a ${existing.kind} and a ${entry.kind})`);
    }
    this.checked = false;
    if (entry.kind === 'dir') {
      dir.children.set(name, { kind: 'dir', path: at, parent: dir, children: new Map() });
    } else if (entry.kind === 'file') {
      const file: FileNode = {
        kind: 'file',
        path: at,
        executable: entry.executable,
        data: entry.data,
        spooled: entry.spooled,
      };
      dir.children.set(name, file);
      this.files.push(file);
    } else {
      const link: LinkNode = { kind: 'symlink', path: at, target: entry.target, parent: dir };
      dir.children.set(name, link);
      this.links.push(link);
    }
  }

  /** Resolves every symlink against the whole tree; throws naming one that leaves it or loops. */
  check(): void {
    if (this.checked) return;
    // An entry added since the last check may have changed where earlier links lead.
    for (const link of this.links) link.resolved = undefined;
    for (const link of this.links) this.resolve(link, 0);
    this.checked = true;
  }

  /** Files and symlinks, and the files' bytes, as the extractors report them. */
  counts(): { files: number; bytes: number } {
    let bytes = 0;
    for (const f of this.files) {
      bytes += f.spooled?.file?.size ?? 0;
      for (const chunk of f.data) bytes += chunk.length;
    }
    return { files: this.files.length + this.links.length, bytes };
  }

  /**
   * Checks, then writes the tree into `dest`, an empty folder owned by the caller: folders, then
   * files, then symlinks, so no path is ever written through a link. On failure `dest` is emptied.
   */
  async write(dest: string): Promise<{ files: number; bytes: number }> {
    this.check();
    try {
      await this.writeDirs(dest, this.root);
      for (const f of this.files) await writeFileExclusive(path.join(dest, f.path), f);
      for (const l of this.links) await symlink(l.target, path.join(dest, l.path));
    } catch (err) {
      await emptyFolder(dest);
      throw err;
    }
    return this.counts();
  }

  /** Rule (a): a relative path without NUL or `..`, normalised to its names. */
  private parts(raw: string): string[] {
    if (raw.includes('\0')) throw this.refuse(`entry ${q(raw)} has a NUL byte in its path`);
    if (raw.startsWith('/')) throw this.refuse(`entry ${q(raw)} has an absolute path`);
    const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw this.refuse(`entry ${q(raw)} has a ".." path`);
    return parts;
  }

  /** Where `link` leads, walking its target name by name exactly as the kernel's lookup does. */
  private resolve(link: LinkNode, depth: number): Resolved {
    if (link.resolved) return link.resolved;
    // Each nesting level is at least one more hop, so this also bounds the recursion.
    if (link.resolving || depth > MAX_SYMLINK_HOPS)
      throw this.refuse(
        `symlink ${q(link.path)} is a loop or a chain of more than ${MAX_SYMLINK_HOPS} symlinks`,
      );
    link.resolving = true;
    let dir = link.parent;
    let below: Missing | undefined;
    let hops = 0;
    for (const name of link.target.split('/')) {
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (below) below = below.up;
        else if (dir.parent) dir = dir.parent;
        else
          throw this.refuse(
            `symlink ${q(link.path)} points outside the ${this.rootName} (${q(link.target)})`,
          );
        continue;
      }
      const child = below ? undefined : dir.children.get(name);
      if (child?.kind === 'dir') dir = child;
      else if (child?.kind === 'symlink') {
        const via = this.resolve(child, depth + 1);
        hops += 1 + via.hops;
        // Following `link` itself is one more hop for whoever goes through it.
        if (hops + 1 > MAX_SYMLINK_HOPS)
          throw this.refuse(
            `symlink ${q(link.path)} is a loop or a chain of more than ${MAX_SYMLINK_HOPS} symlinks`,
          );
        dir = via.dir;
        below = via.below;
      } else {
        // Missing, or a file (the kernel would stop with ENOTDIR): taken as a folder that may be
        // made later, so `x/..` stays where it is and nothing is allowed that could leave the root.
        below = { name, up: below };
      }
    }
    link.resolving = false;
    link.resolved = { dir, below, hops };
    return link.resolved;
  }

  private async writeDirs(dest: string, dir: DirNode): Promise<void> {
    for (const child of dir.children.values()) {
      if (child.kind !== 'dir') continue;
      // Not recursive: the parent was made just before, and nothing else exists yet.
      await mkdir(path.join(dest, child.path), { mode: 0o755 });
      await this.writeDirs(dest, child);
    }
  }
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** A new regular file: fails if anything (a link included) is already at `abs`. */
async function writeFileExclusive(abs: string, file: FileNode): Promise<void> {
  // Only the executable bit is kept: nothing setuid, nothing group- or world-writable.
  const mode = file.executable ? 0o755 : 0o644;
  if (file.spooled) {
    const spooled = file.spooled.file;
    if (!spooled) throw new Error(`the contents of ${file.path} were never spooled`);
    // The spool file is ours alone (a 0700 folder): its mode is set there, then it is linked in,
    // which fails like O_EXCL if anything, a symlink included, is at `abs`.
    await chmod(spooled.path, mode);
    await link(spooled.path, abs).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EXDEV') throw err;
      await copyFile(spooled.path, abs, constants.COPYFILE_EXCL);
      await chmod(abs, mode);
    });
    return;
  }
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fh = await open(abs, flags, mode);
  try {
    for (const chunk of file.data) {
      for (let at = 0; at < chunk.length;) at += (await fh.write(chunk, at)).bytesWritten;
    }
    await fh.chmod(mode); // exact, whatever the umask
  } finally {
    await fh.close();
  }
}

/** Removes everything inside `dest` (links themselves, never what they point to). */
async function emptyFolder(dest: string): Promise<void> {
  for (const name of await readdir(dest).catch(() => [])) {
    await rm(path.join(dest, name), { recursive: true, force: true });
  }
}
