/**
 * Built code shared between the nodes of one store, by content hash. The node that builds a
 * version packs its build folder (a gzipped tar) into the store before the version is recorded,
 * so every node that learns of the version can fetch it; a node keeps what it fetched in its own
 * build folder (DATA/builds/<hash>), so a version is fetched once per node, however often it is
 * activated. The bytes are checked against the sha256 kept beside them before they are unpacked.
 *
 * Builds no version names any more are removed from the store (`collect`), but only once they
 * were last published `COLLECT_AFTER_MS` ago. A deploy publishes before it records its version,
 * so for a moment its build is named by no version: a deploy of code whose build is stored
 * already (an identical redeploy, the code of a deleted function) touches the row instead of
 * skipping it, and the grace period covers the time up to the record. Why a grace period rather
 * than checking again after the record: on PostgreSQL a collecting DELETE reads the versions in
 * the snapshot it started with, so it can still remove the row after a deploy's check has seen
 * it; a touch and a delete both lock the row, so the second one always sees the first (the
 * delete tests the publish time on the row it removes; a touch after it finds no row and the
 * build is published again).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as extractTar } from 'tar';
import { packDirectory, type BuildStore } from '../build/index.ts';
import type { ClusterStore } from '../store/index.ts';

/** What sharing builds needs. */
export interface BuildShareOptions {
  cluster: ClusterStore;
  builds: BuildStore;
  now?: () => number;
}

/**
 * How long a build stays in the store after it was last published, whether or not a version
 * names it: far beyond the time from a deploy's publish to its record (one insert) and the clock
 * difference between nodes (which the leader lease already needs within a fraction of a lease).
 */
const COLLECT_AFTER_MS = 60 * 60_000;

/** Builds removed from the store per `collect` (each a blob of up to a build's size). */
const COLLECT_BATCH = 50;

/** Publishes builds to the store and fetches those other nodes made. */
export class BuildShare {
  private readonly o: Required<BuildShareOptions>;
  /** Fetches in progress by hash: two refreshes of one version share one download. */
  private readonly fetching: Map<string, Promise<string>> = new Map();

  constructor(options: BuildShareOptions) {
    this.o = { now: Date.now, ...options };
  }

  /**
   * Stores the build of `hash` (from `buildDir`) for the other nodes, or marks the stored one as
   * published now; call it just before recording the version that uses it.
   */
  async publish(hash: string, buildDir: string): Promise<void> {
    if (await this.o.cluster.touchBuild(hash, this.o.now())) return;
    const blob = await packDirectory(buildDir);
    const sha256 = createHash('sha256').update(blob).digest('hex');
    await this.o.cluster.putBuild(hash, { sha256, blob }, this.o.now());
  }

  /**
   * Removes from the store up to a batch of builds that no version names and that were last
   * published over `COLLECT_AFTER_MS` ago; `more` when the batch was full (call again).
   */
  async collect(): Promise<{ removed: string[]; more: boolean }> {
    const removed = await this.o.cluster.deleteUnusedBuilds(this.o.now() - COLLECT_AFTER_MS, COLLECT_BATCH);
    return { removed, more: removed.length >= COLLECT_BATCH };
  }

  /** The local folder of build `hash`: this node's own, or fetched from the store (rejects when it cannot be). */
  locate(hash: string): Promise<string> {
    const local = this.o.builds.dirFor(hash);
    let p = this.fetching.get(hash);
    if (!p) {
      p = this.ensure(hash, local).finally(() => this.fetching.delete(hash));
      this.fetching.set(hash, p);
    }
    return p;
  }

  private async ensure(hash: string, local: string): Promise<string> {
    // Held while it is looked at and fetched: the sweep of unused builds leaves it alone.
    const release = await this.o.builds.hold(hash);
    try {
      return await this.fetch(hash, local);
    } finally {
      release();
    }
  }

  private async fetch(hash: string, local: string): Promise<string> {
    // Only this node's own folder counts: another node's (on the same machine) may go at any time.
    if (await this.o.builds.has(hash)) return local;
    const build = await this.o.cluster.getBuild(hash);
    if (!build) throw new Error(`build ${hash.slice(0, 12)} is not in the store`);
    const actual = createHash('sha256').update(build.blob).digest('hex');
    if (actual !== build.sha256)
      throw new Error(`build ${hash.slice(0, 12)} is damaged in the store (sha256 differs)`);
    // Unpacked beside its final place, then renamed: a half-written folder is never seen as a build.
    const tmp = `${local}.fetch-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    try {
      await pipeline(Readable.from([build.blob]), extractTar({ cwd: tmp, strict: true }));
      await rm(local, { recursive: true, force: true });
      await rename(tmp, local);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return local;
  }
}
