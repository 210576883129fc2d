/**
 * Where built code lives: one folder per content hash (`builds/<hash>`: the built tree in `task/`
 * and kumo's `launch.json` beside it), so a version's code is identified by what it is, not by
 * its function's name and number. A folder (and the sandbox's staged copy of it) goes when no
 * version uses it any more: a deleted function's code is never served to its successor.
 */
import { rm, stat } from 'node:fs/promises';
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
  /** The folder of uploaded bundles (DATA/bundles). */
  bundlesDir: string;
}

/** Content-addressed build folders. */
export class BuildStore {
  private readonly o: BuildStoreOptions;

  constructor(options: BuildStoreOptions) {
    this.o = options;
  }

  /** The build folder of content `hash`. */
  dirFor(hash: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(hash)) throw new Error(`not a content hash: ${hash}`);
    return path.join(this.o.root, hash);
  }

  /** Whether a complete build of `hash` is there (its launch record is written last). */
  async has(hash: string): Promise<boolean> {
    return (await stat(launchRecordFile(this.dirFor(hash))).catch(() => undefined)) !== undefined;
  }

  /** Removes a build folder and its staged copies, unless a version still uses it. */
  async release(buildDir: string): Promise<void> {
    if (await this.o.buildInUse(buildDir)) return;
    await this.o.forget(taskDir(buildDir));
    await rm(buildDir, { recursive: true, force: true });
  }

  /** Removes an uploaded bundle unless a version still refers to it. */
  async releaseBundle(bundleHash: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(bundleHash) || (await this.o.bundleInUse(bundleHash))) return;
    await rm(path.join(this.o.bundlesDir, `${bundleHash}.tar.gz`), { force: true });
  }
}
