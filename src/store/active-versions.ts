/**
 * The serving version of every function, cached in memory for the hot path. On one machine this
 * process is the only writer, so deploy, rollback and delete update it as they commit.
 */
import type { FunctionSpec } from '../core/index.ts';
import type { Store } from './store.ts';

/** What routing needs to know about a function's active version. */
export interface ActiveVersion {
  functionName: string;
  version: number;
  spec: FunctionSpec;
  buildDir: string;
}

/** Read-through cache of active versions. */
export class ActiveVersions {
  private readonly store: Store;
  private readonly cache: Map<string, ActiveVersion | null> = new Map();
  private readonly listeners: Set<(name: string) => void> = new Set();

  constructor(store: Store) {
    this.store = store;
  }

  /** The active version of `name`, or undefined when no such function exists. */
  get(name: string): ActiveVersion | undefined {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit ?? undefined;
    const fn = this.store.getFunction(name);
    const v = fn ? this.store.getVersion(name, fn.activeVersion) : undefined;
    const entry = v ? { functionName: name, version: v.version, spec: v.spec, buildDir: v.buildDir } : null;
    // Unknown names are not cached: a scan of random hosts must not grow the map.
    if (entry) this.cache.set(name, entry);
    return entry ?? undefined;
  }

  /** Forgets `name` after a deploy, rollback or delete changed it. */
  invalidate(name: string): void {
    this.cache.delete(name);
    for (const listener of this.listeners) listener(name);
  }

  /** Calls `listener` after each deploy, rollback or delete of a function (the scheduler follows kumo.yaml schedules). */
  onChange(listener: (name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
