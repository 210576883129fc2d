/**
 * Part of the composition root: how a node follows the other nodes of its store. This node's
 * own deploys, rollbacks, deletes and schedule changes are announced; the others' are applied
 * here (read again, build fetched, traffic switched: requests in flight on the old version
 * finish on it, as after a local deploy). On SQLite there is no other node: nothing is built.
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
}

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
  const apply = async (fn: string): Promise<void> => {
    const began = Date.now();
    const before = versions.get(fn);
    await versions.refresh(fn, 'remote');
    await d.reload?.();
    const now = versions.get(fn);
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
    if (origin === 'local') announce(fn);
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
