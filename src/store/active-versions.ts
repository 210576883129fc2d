/**
 * The serving version of every function, held in memory for the hot path: routing reads it
 * without waiting for the store. Loaded once at start; deploy, rollback and delete refresh the
 * function they changed once their write has committed, and on a shared store the change feed
 * refreshes what other nodes changed (origin 'remote'). Where a node keeps built code is its own
 * business: `locate` turns a version's content hash into a local build folder (fetching it when
 * another node built it); a version whose build cannot be had is kept with `unavailable` set.
 */
import type { FunctionSpec } from '../core/index.ts';
import type { FunctionStore } from './functions.ts';

/** What routing needs to know about a function's active version. */
export interface ActiveVersion {
  functionName: string;
  version: number;
  spec: FunctionSpec;
  buildDir: string;
  /** Why this node cannot run the version (its build could not be fetched), or undefined. */
  unavailable?: string;
}

/** Where a change came from: this node's own API, or another node (the change feed). */
export type ChangeOrigin = 'local' | 'remote';

/** Finds (or fetches) the build of content `hash` on this node; `storedDir` is where its builder kept it. */
export type BuildLocator = (hash: string, storedDir: string) => Promise<string>;

/** In-memory map of active versions, fed by the function store. */
export class ActiveVersions {
  private readonly store: FunctionStore;
  private readonly cache: Map<string, ActiveVersion> = new Map();
  /** The latest refresh of each function: an older one that ends later must not win. */
  private readonly refreshing: Map<string, number> = new Map();
  private sequence = 0;
  private readonly listeners: Set<(name: string, origin: ChangeOrigin) => void> = new Set();
  private readonly locate: BuildLocator | undefined;

  constructor(store: FunctionStore, locate?: BuildLocator) {
    this.store = store;
    this.locate = locate;
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
  async refresh(name: string, origin: ChangeOrigin = 'local'): Promise<void> {
    const mine = ++this.sequence;
    this.refreshing.set(name, mine);
    const entry = await this.read(name);
    if (this.refreshing.get(name) !== mine) return;
    this.refreshing.delete(name);
    if (entry) this.cache.set(name, entry);
    else this.cache.delete(name);
    for (const listener of this.listeners) listener(name, origin);
  }

  /** The functions this node cannot serve (their builds could not be fetched), to try again. */
  unavailable(): string[] {
    return [...this.cache.values()].filter((v) => v.unavailable !== undefined).map((v) => v.functionName);
  }

  /** Calls `listener` after each deploy, rollback or delete of a function (the scheduler follows kumo.yaml schedules). */
  onChange(listener: (name: string, origin: ChangeOrigin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async read(name: string): Promise<ActiveVersion | undefined> {
    const fn = await this.store.getFunction(name);
    const v = fn ? await this.store.getVersion(name, fn.activeVersion) : undefined;
    if (!v) return undefined;
    const entry: ActiveVersion = {
      functionName: name,
      version: v.version,
      spec: v.spec,
      buildDir: v.buildDir,
    };
    if (!this.locate) return entry;
    try {
      return { ...entry, buildDir: await this.locate(v.hash, v.buildDir) };
    } catch (err) {
      return { ...entry, unavailable: (err as Error).message };
    }
  }
}
