/**
 * Part of the composition root: how a node follows the other nodes of its store. This node's
 * own deploys, rollbacks, deletes and schedule changes are announced; the others' are applied
 * here (read again, build fetched, traffic switched: requests in flight on the old version
 * finish on it, as after a local deploy). After a change that may leave builds unused (a deploy,
 * which prunes, a rollback, a delete: through any node), at start, and every ten minutes, the
 * node sweeps its build folder: what no stored version uses goes, as a lone node's own delete
 * and pruning remove it. In the same turn it removes from the store a batch of the published
 * builds no version uses (BuildShare.collect: after a grace period; any node may do it, the
 * delete is one statement). On SQLite there is no other node: nothing is built.
 */
import { ChangeFeed } from '../cluster/index.ts';
import type { ServerLog } from '../core/index.ts';
import type { InstancePool } from '../pool/index.ts';
import type { ActiveVersions, ClusterStore } from '../store/index.ts';

/** What following the cluster needs. */
export interface ClusterFollowDeps {
  cluster: ClusterStore;
  versions: ActiveVersions;
  pool: InstancePool;
  log: ServerLog;
  /** The feed's position when the versions were read at start. */
  since: number;
  /** Reads again what else a change may have changed (the API routes table). */
  reload?: () => Promise<void>;
  /** Removes this node's build folders that no stored version uses; the hashes removed. */
  sweepBuilds?: () => Promise<string[]>;
  /** Removes a batch of the store's published builds that no version uses; `more` when there may be more. */
  collectBuilds?: () => Promise<{ removed: string[]; more: boolean }>;
}

/** A sweep of unused builds at least this often (a pruning that ended after the sweep its deploy caused). */
const SWEEP_EVERY_MS = 10 * 60_000;

/** A node's link to the others: announce this node's changes, apply theirs. */
export interface ClusterFollow {
  /** Announces a change of `fn` that did not go through the active versions (a schedule). */
  announce(fn: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Follows the change feed when the store is shared; a no-op otherwise. */
export function followCluster(d: ClusterFollowDeps): ClusterFollow {
  if (!d.cluster.shared) return { announce: () => {}, start: async () => {}, stop: async () => {} };
  const { versions, pool, log } = d;
  const warned = new Set<string>();
  // Due at start: versions may have gone while this node was down.
  let sweepDue = true;
  let lastSweep = 0;
  const sweep = async (): Promise<void> => {
    if (!sweepDue && Date.now() - lastSweep < SWEEP_EVERY_MS) return;
    sweepDue = false;
    lastSweep = Date.now();
    try {
      const removed = (await d.sweepBuilds?.()) ?? [];
      if (removed.length)
        log.info('cluster: removed builds no version uses any more', {
          builds: removed.map((h) => h.slice(0, 12)).join(','),
        });
    } catch (err) {
      log.warn('cluster: removing unused builds failed', { error: String(err) });
    }
    try {
      const collected = await d.collectBuilds?.();
      if (!collected) return;
      // Bounded per turn: the next poll goes on with the rest.
      if (collected.more) sweepDue = true;
      if (collected.removed.length)
        log.info('cluster: removed builds no version uses any more from the store', {
          count: collected.removed.length,
          builds: collected.removed.map((h) => h.slice(0, 12)).join(','),
        });
      else log.debug('cluster: no build in the store to remove');
    } catch (err) {
      log.warn('cluster: removing unused builds from the store failed', { error: String(err) });
    }
  };
  const apply = async (fn: string): Promise<void> => {
    const began = Date.now();
    const before = versions.get(fn);
    await versions.refresh(fn, 'remote');
    await d.reload?.();
    const now = versions.get(fn);
    if (before?.version !== now?.version) sweepDue = true;
    if (!now) {
      if (before) pool.retireFunction(fn);
      return;
    }
    if (now.unavailable !== undefined) {
      // Said once per version: each poll tries again.
      if (warned.has(`${fn}@${now.version}`)) return;
      warned.add(`${fn}@${now.version}`);
      log.warn('cluster: the build of a version could not be fetched; trying again', {
        function: fn,
        version: now.version,
        error: now.unavailable,
      });
      return;
    }
    if (before && before.version === now.version && before.unavailable === undefined) return;
    pool.activate(now);
    log.info('cluster: serving a version another node made active', {
      function: fn,
      version: now.version,
      ms: Date.now() - began,
    });
  };
  const feed = new ChangeFeed({
    store: d.cluster,
    apply,
    afterPoll: async () => {
      for (const fn of versions.unavailable()) await apply(fn);
      // In the feed's turn, so never while a change is applied (a build being located is also held).
      await sweep();
    },
    log,
  });
  const announce = (fn: string) =>
    void feed
      .announce(fn)
      .catch((err: unknown) =>
        log.error('cluster: announcing a change failed', { function: fn, error: String(err) }),
      );
  const unfollow = versions.onChange((fn, origin) => {
    if (origin !== 'local') return;
    announce(fn);
    // A local delete or pruning removes this node's own builds, not what it fetched for them.
    sweepDue = true;
  });
  return {
    announce,
    start: () => feed.start(d.since),
    stop: async () => {
      unfollow();
      await feed.stop();
    },
  };
}
