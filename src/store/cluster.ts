/**
 * What several nodes on one store share beyond the records: a change feed (deploys, rollbacks,
 * deletes and schedule changes, announced by the node that made them and followed by every
 * other), built code by content hash (a node that lacks a version's build fetches it) and named
 * leases (the scheduler's leader). A cron tick is claimed by its queued invocation's tick key
 * (queue.ts), not here: the claim and the invocation are one row.
 * On SQLite these are plain local tables: one process, so nothing is ever contended.
 */

/** One announced change: function `fn` changed (its versions or its schedules). */
export interface ClusterChange {
  /** Increasing over the whole store: a follower reads what is after the last it saw. */
  seq: number;
  function: string;
}

/** A stored build: the gzipped tar of a build folder, and the sha256 of those bytes. */
export interface BuildBlob {
  sha256: string;
  blob: Buffer;
}

/** Shared state of the nodes of one store. */
export interface ClusterStore {
  /** True when other processes may use the same store (PostgreSQL); false for the SQLite file. */
  readonly shared: boolean;
  /** Records a change of function `fn` and wakes the followers; returns its seq. */
  announce(fn: string, now: number): Promise<number>;
  /** Changes after `seq`, oldest first, at most `limit`. */
  changesSince(seq: number, limit: number): Promise<ClusterChange[]>;
  /** The seq of the latest change (0 when none). */
  lastChange(): Promise<number>;
  /** Removes changes older than `before` (ms), keeping the latest so seq never goes back. */
  pruneChanges(before: number): Promise<void>;
  /**
   * Calls `wake` soon after any node announces a change (LISTEN/NOTIFY on PostgreSQL; never on
   * SQLite, where the announcing node is the only one). Returns the function that stops listening.
   */
  listen(wake: () => void): Promise<() => Promise<void>>;
  /** Stores build `hash` published at `now` (first writer wins: the content is the same). */
  putBuild(hash: string, build: BuildBlob, now: number): Promise<void>;
  /**
   * Marks stored build `hash` as published again at `now` (its time never goes back); false when
   * it is not stored. A deploy that finds its build stored does this, so `deleteUnusedBuilds`
   * spares the build until its version is recorded.
   */
  touchBuild(hash: string, now: number): Promise<boolean>;
  /** Whether build `hash` is stored. */
  hasBuild(hash: string): Promise<boolean>;
  /** Build `hash`, or undefined. */
  getBuild(hash: string): Promise<BuildBlob | undefined>;
  /**
   * Removes, in one statement, at most `limit` builds that no version row names and that were
   * last published before `before` (ms), oldest first; returns their hashes.
   */
  deleteUnusedBuilds(before: number, limit: number): Promise<string[]>;
  /**
   * Takes or renews lease `name` for `owner` until `now + ttlMs`: true when `owner` holds it
   * (it was free, expired, or already its own), false when another owner holds it.
   */
  tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives lease `name` up if `owner` holds it (a clean stop: the next leader need not wait). */
  releaseLease(name: string, owner: string): Promise<void>;
  /** Resolves when the store answers a trivial query within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
}
