/**
 * All version pools of the server, keyed by function and version. Routing asks for the active
 * version's pool; a rollback or deploy retires the old pool, which drains while new requests go
 * to the new one, so a switch fails no request.
 */
import { randomBytes } from 'node:crypto';
import type { Instance } from '../drivers/index.ts';
import { HostCpu } from './host-cpu.ts';
import {
  VersionPool,
  type InstanceFactory,
  type Lease,
  type PoolEvent,
  type PoolStats,
  type PoolTarget,
} from './version-pool.ts';

/** Options of the pool manager. */
export interface InstancePoolOptions {
  factory: InstanceFactory;
  now?: () => number;
  onEvent?: (event: PoolEvent) => void;
  /** The versions of a function that must stay ready besides the active one (those aliases name). */
  pinned?: (functionName: string) => ReadonlySet<number>;
  /** The host's idle CPU, cores' worth (default: /proc/stat through HostCpu). */
  spareCores?: () => Promise<number | undefined>;
}

/** The pool manager. */
export class InstancePool {
  private readonly pools: Map<string, VersionPool> = new Map();
  private readonly factory: InstanceFactory;
  private readonly now: () => number;
  private readonly onEvent: (event: PoolEvent) => void;
  private readonly pinned: (functionName: string) => ReadonlySet<number>;
  private readonly spareCores: () => Promise<number | undefined>;

  constructor(options: InstancePoolOptions) {
    this.factory = options.factory;
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent ?? (() => {});
    this.pinned = options.pinned ?? (() => new Set());
    const host = new HostCpu();
    this.spareCores = options.spareCores ?? (() => host.spareCores());
  }

  /**
   * A lease on an instance of `target`, waiting in its queue if needed. `serve`: an alias or the
   * caller named this version, so a pool retired by a deploy serves (and keeps warm instances
   * until their idle time) again.
   */
  acquire(target: PoolTarget, signal?: AbortSignal, serve = false): Promise<Lease> {
    const pool = this.poolFor(target);
    if (serve) pool.revive();
    return pool.acquire(signal);
  }

  /**
   * Makes `target` the serving version of its function: prewarms it and retires every other
   * version except those an alias names.
   */
  activate(target: PoolTarget, warm?: Instance): void {
    const pool = this.poolFor(target);
    pool.revive();
    if (warm) pool.adopt(warm);
    pool.prewarm();
    this.retireUnpinned(target.functionName, target.version);
  }

  /** Retires the pools of `name`'s versions that are neither `keep` nor pinned (after an alias changed). */
  retireUnpinned(name: string, keep?: number): void {
    const pinned = this.pinned(name);
    for (const other of this.pools.values()) {
      const v = other.target.version;
      if (other.target.functionName === name && v !== keep && !pinned.has(v)) other.retire();
    }
  }

  /** Starts an instance outside any pool (deploy uses it to prove the code loads before activating). */
  startDetached(target: PoolTarget): Promise<Instance> {
    return this.factory(
      target,
      `${target.functionName}-v${target.version}-${randomBytes(4).toString('hex')}`,
    );
  }

  /** Retires every version of a function (delete). */
  retireFunction(name: string): void {
    for (const pool of this.pools.values()) if (pool.target.functionName === name) pool.retire();
  }

  /** Instance counts of a function, over all its versions. */
  stats(name: string): PoolStats {
    const total: PoolStats = { total: 0, busy: 0, starting: 0, waiting: 0 };
    for (const pool of this.pools.values()) {
      if (pool.target.functionName !== name) continue;
      const s = pool.stats();
      total.total += s.total;
      total.busy += s.busy;
      total.starting += s.starting;
      total.waiting += s.waiting;
    }
    return total;
  }

  /** Stops every instance of every function. */
  async close(graceMs = 5000): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close(graceMs)));
    this.pools.clear();
  }

  private poolFor(target: PoolTarget): VersionPool {
    const key = `${target.functionName}@${target.version}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const created = new VersionPool(target, {
        factory: this.factory,
        now: this.now,
        newInstanceId: () => `${target.functionName}-v${target.version}-${randomBytes(4).toString('hex')}`,
        onEvent: this.onEvent,
        spareCores: this.spareCores,
      });
      created.onDrained = () => {
        if (this.pools.get(key) === created) this.pools.delete(key);
      };
      this.pools.set(key, created);
      pool = created;
    }
    return pool;
  }
}
