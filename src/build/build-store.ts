/**
 * Where built code lives: one folder per content hash (`builds/<hash>`: the built tree in `task/`
 * and kumo's `launch.json` beside it), so a version's code is identified by what it is, not by
 * its function's name and number. A folder (and the sandbox's staged copy of it) goes when no
 * version uses it any more: a deleted function's code is never served to its successor.
 *
 * On a store shared by several nodes, versions are also deleted and pruned by the other nodes, so
 * a node sweeps its folder from time to time (`sweep`): a folder whose hash no stored version has
 * goes, unless a deploy or a fetch of this node holds it (`hold`) because its version is not
 * recorded yet. A hold waits for a removal of its hash in progress, so it never sees a half-removed
 * folder as a build.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { launchRecordFile, taskDir } from '../runtimes/index.ts';

/** What the build store needs. */
export interface BuildStoreOptions {
  /** The folder of all builds (DATA/builds). */
  root: string;
  /** Drops what the sandbox staged for a host path (see Driver.forget). */
  forget: (hostPath: string) => Promise<void>;
  /** Whether a version still uses a build folder / an uploaded bundle. */
  buildInUse: (buildDir: string) => Promise<boolean>;
  bundleInUse: (bundleHash: string) => Promise<boolean>;
  /** Which of these content hashes a stored version still has (for `sweep`). */
  hashesInUse: (hashes: readonly string[]) => Promise<Set<string>>;
  /** The folder of uploaded bundles (DATA/bundles). */
  bundlesDir: string;
}

/** A build folder's name: its content hash. */
const HASH = /^[0-9a-f]{16,128}$/;
/** A fetch's unpacking folder beside its build (build-share.ts), left behind by a crash. */
const FETCHING = /^([0-9a-f]{16,128})\.fetch-[0-9a-f]+$/;

/** Content-addressed build folders. */
export class BuildStore {
  private readonly o: BuildStoreOptions;
  /** Hashes held by deploys and fetches in progress (how many of each). */
  private readonly holds: Map<string, number> = new Map();
  /** Removals by `sweep` in progress, by hash (they never reject). */
  private readonly removing: Map<string, Promise<void>> = new Map();

  constructor(options: BuildStoreOptions) {
    this.o = options;
  }

  /** The build folder of content `hash`. */
  dirFor(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`not a content hash: ${hash}`);
    return path.join(this.o.root, hash);
  }

  /** Whether a complete build of `hash` is there (its launch record is written last). */
  async has(hash: string): Promise<boolean> {
    return (await stat(launchRecordFile(this.dirFor(hash))).catch(() => undefined)) !== undefined;
  }

  /**
   * Keeps `sweep` away from build `hash` until the returned function is called: for a deploy
   * that builds or reuses it, or a fetch, before its version is recorded. Resolves once a removal
   * of the hash in progress has ended.
   */
  async hold(hash: string): Promise<() => void> {
    this.holds.set(hash, (this.holds.get(hash) ?? 0) + 1);
    await this.removing.get(hash);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.holds.get(hash) ?? 1) - 1;
      if (left > 0) this.holds.set(hash, left);
      else this.holds.delete(hash);
    };
  }

  /** Removes a build folder and its staged copies, unless a version still uses it. */
  async release(buildDir: string): Promise<void> {
    // A version built by another node names that node's folder: never this node's to remove
    // (nodes on one machine have different data folders); its own copy goes by `sweep`.
    const inside = path.relative(this.o.root, buildDir);
    if (!inside || inside.startsWith('..') || path.isAbsolute(inside)) return;
    if (await this.o.buildInUse(buildDir)) return;
    await this.o.forget(taskDir(buildDir));
    await rm(buildDir, { recursive: true, force: true });
  }

  /**
   * Removes every build folder whose content hash no stored version has and that no deploy or
   * fetch holds, and unpacking folders that a crash left behind; returns the hashes removed.
   */
  async sweep(): Promise<string[]> {
    const names = await readdir(this.o.root).catch(() => [] as string[]);
    for (const name of names) {
      const hash = FETCHING.exec(name)?.[1];
      if (hash !== undefined && !this.holds.has(hash))
        await rm(path.join(this.o.root, name), { recursive: true, force: true });
    }
    const candidates = names.filter((n) => HASH.test(n) && !this.holds.has(n));
    if (!candidates.length) return [];
    const used = await this.o.hashesInUse(candidates);
    const removed: string[] = [];
    for (const hash of candidates) {
      if (used.has(hash)) continue;
      // Asked again just before: a version recorded since the first answer keeps its build.
      if ((await this.o.hashesInUse([hash])).has(hash)) continue;
      // No await between this check and the mark: a hold taken from here on waits for the removal.
      if (this.holds.has(hash) || this.removing.has(hash)) continue;
      await this.remove(hash);
      removed.push(hash);
    }
    return removed;
  }

  private remove(hash: string): Promise<void> {
    const dir = this.dirFor(hash);
    const done = (async () => {
      await this.o.forget(taskDir(dir));
      await rm(dir, { recursive: true, force: true });
    })().finally(() => this.removing.delete(hash));
    this.removing.set(
      hash,
      done.catch(() => {}),
    );
    return done;
  }

  /** Removes an uploaded bundle unless a version still refers to it. */
  async releaseBundle(bundleHash: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(bundleHash) || (await this.o.bundleInUse(bundleHash))) return;
    await rm(path.join(this.o.bundlesDir, `${bundleHash}.tar.gz`), { force: true });
  }
}
