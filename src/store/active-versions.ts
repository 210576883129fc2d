/**
 * The serving version of every function, held in memory for the hot path: routing reads it
 * without waiting for the store. Loaded once at start; deploy, rollback and delete refresh the
 * function they changed once their write has committed.
 */
import type { FunctionSpec } from '../core/index.ts';
import type { FunctionStore } from './functions.ts';

/** What routing needs to know about a function's active version. */
export interface ActiveVersion {
  functionName: string;
  version: number;
  spec: FunctionSpec;
  buildDir: string;
}

/** In-memory map of active versions, fed by the function store. */
export class ActiveVersions {
  private readonly store: FunctionStore;
  private readonly cache: Map<string, ActiveVersion> = new Map();
  /** The latest refresh of each function: an older one that ends later must not win. */
  private readonly refreshing: Map<string, number> = new Map();
  private sequence = 0;
  private readonly listeners: Set<(name: string) => void> = new Set();

  constructor(store: FunctionStore) {
    this.store = store;
  }

  /** Reads the active version of every function (at start, before serving). */
  async load(): Promise<void> {
    for (const fn of await this.store.listFunctions()) {
      const entry = await this.read(fn.name);
      if (entry) this.cache.set(fn.name, entry);
    }
  }

  /** The active version of `name`, or undefined when no such function exists. */
  get(name: string): ActiveVersion | undefined {
    return this.cache.get(name);
  }

  /** The names of the deployed functions, sorted. */
  names(): string[] {
    return [...this.cache.keys()].sort();
  }

  /** Reads `name` again after a deploy, rollback or delete changed it, then tells the listeners. */
  async refresh(name: string): Promise<void> {
    const mine = ++this.sequence;
    this.refreshing.set(name, mine);
    const entry = await this.read(name);
    if (this.refreshing.get(name) !== mine) return;
    this.refreshing.delete(name);
    if (entry) this.cache.set(name, entry);
    else this.cache.delete(name);
    for (const listener of this.listeners) listener(name);
  }

  /** Calls `listener` after each deploy, rollback or delete of a function (the scheduler follows kumo.yaml schedules). */
  onChange(listener: (name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async read(name: string): Promise<ActiveVersion | undefined> {
    const fn = await this.store.getFunction(name);
    const v = fn ? await this.store.getVersion(name, fn.activeVersion) : undefined;
    return v ? { functionName: name, version: v.version, spec: v.spec, buildDir: v.buildDir } : undefined;
  }
}
