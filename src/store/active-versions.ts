/**
 * The serving version of every function, and its aliases, held in memory for the hot path:
 * routing reads them without waiting for the store. Loaded once at start; deploy, rollback,
 * delete and every alias write refresh the function they changed once their write has committed,
 * so a function's active version and aliases are replaced together (an alias update is atomic
 * for the requests that follow it); on a shared store the change feed refreshes what other nodes
 * changed (origin 'remote'). Where a node keeps built code is its own business: `locate` turns a
 * version's content hash into a local build folder (fetching it when another node built it); a
 * version whose build cannot be had is kept with `unavailable` set.
 */
import {
  KumoError,
  pickVersion,
  splitHostLabel,
  splitQualified,
  type AliasRecord,
  type FunctionSpec,
} from '../core/index.ts';
import type { AliasStore } from './aliases.ts';
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

/** A stored version as read from the function store. */
interface StoredVersion {
  version: number;
  spec: FunctionSpec;
  buildDir: string;
  hash: string;
}

/** An alias with the versions it names, read with it. */
interface LoadedAlias {
  record: AliasRecord;
  versions: Map<number, ActiveVersion>;
}

/** A function's state in memory: the active version and the aliases. */
interface FunctionEntry {
  active: ActiveVersion;
  aliases: Map<string, LoadedAlias>;
}

/** The version one call runs, and the alias it came through. */
export interface ServingVersion {
  target: ActiveVersion;
  /** The alias the call named (or the version number it named, for a queued run's record), or null. */
  alias: string | null;
}

/** A version number as a qualifier: digits without a leading zero. */
const VERSION_QUALIFIER = /^[1-9][0-9]{0,9}$/;

/** In-memory map of active versions and aliases, fed by the function and alias stores. */
export class ActiveVersions {
  private readonly store: FunctionStore;
  private readonly aliasStore: AliasStore | undefined;
  private readonly cache: Map<string, FunctionEntry> = new Map();
  /** The latest refresh of each function: an older one that ends later must not win. */
  private readonly refreshing: Map<string, number> = new Map();
  private sequence = 0;
  private readonly listeners: Set<(name: string, origin: ChangeOrigin) => void> = new Set();
  private readonly locate: BuildLocator | undefined;

  constructor(store: FunctionStore, aliases?: AliasStore, locate?: BuildLocator) {
    this.store = store;
    this.aliasStore = aliases;
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
    return this.cache.get(name)?.active;
  }

  /** The names of the deployed functions, sorted. */
  names(): string[] {
    return [...this.cache.keys()].sort();
  }

  /** The aliases of `name` as last read (empty for an unknown function). */
  aliases(name: string): AliasRecord[] {
    return [...(this.cache.get(name)?.aliases.values() ?? [])].map((a) => a.record);
  }

  /** The versions of `name` that must stay ready to serve: the active one and those aliases name. */
  pinned(name: string): Set<number> {
    const entry = this.cache.get(name);
    const out = new Set<number>();
    if (!entry) return out;
    out.add(entry.active.version);
    for (const a of entry.aliases.values()) for (const v of a.versions.keys()) out.add(v);
    return out;
  }

  /**
   * The function a route's name addresses, without its qualifier: `NAME@QUALIFIER` (path form)
   * or `NAME--ALIAS` (Host form, unless a function has the whole label as its name).
   */
  functionOf(raw: string): string {
    const { name } = splitQualified(raw);
    return name === raw ? splitHostLabel(raw, (n) => this.cache.has(n)).name : name;
  }

  /**
   * The version one call of `name` runs: the active one without a qualifier, an alias's (its
   * canary with the alias's weight, `random` in [0, 1)), or a version by number (read from the
   * store unless active or named by an alias). Undefined when no such function is deployed;
   * throws alias_not_found, version_not_found or invalid_alias for a qualifier that names nothing.
   */
  serving(
    name: string,
    qualifier: string | undefined,
    random: number,
  ): ServingVersion | Promise<ServingVersion> | undefined {
    const entry = this.cache.get(name);
    if (!entry) return undefined;
    if (qualifier === undefined || qualifier === '$LATEST') return { target: entry.active, alias: null };
    const alias = entry.aliases.get(qualifier);
    if (alias) {
      const version = pickVersion(alias.record, random);
      const target = alias.versions.get(version);
      // The alias was read with its versions, and pruning spares versions an alias names.
      if (!target) throw aliasGone(name, qualifier, version);
      return { target, alias: qualifier };
    }
    if (!VERSION_QUALIFIER.test(qualifier)) {
      throw new KumoError(
        'alias_not_found',
        `function '${name}' has no alias ${JSON.stringify(qualifier.slice(0, 80))} (see kumo alias ${name})`,
      );
    }
    const number = Number(qualifier);
    if (number === entry.active.version) return { target: entry.active, alias: null };
    for (const a of entry.aliases.values()) {
      const known = a.versions.get(number);
      if (known) return { target: known, alias: null };
    }
    return this.versionFromStore(name, number);
  }

  /** Reads `name` again after a deploy, rollback, delete or alias write changed it, then tells the listeners. */
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
    return [...this.cache.values()]
      .filter((e) => e.active.unavailable !== undefined)
      .map((e) => e.active.functionName);
  }

  /** Calls `listener` after each deploy, rollback, delete or alias change of a function. */
  onChange(listener: (name: string, origin: ChangeOrigin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async versionFromStore(name: string, version: number): Promise<ServingVersion> {
    const v = await this.store.getVersion(name, version);
    if (!v) throw new KumoError('version_not_found', `function '${name}' has no version ${version}`);
    return { target: await this.toActive(name, v), alias: null };
  }

  /** A stored version as routing sees it, its build located on this node. */
  private async toActive(name: string, v: StoredVersion): Promise<ActiveVersion> {
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

  private async read(name: string): Promise<FunctionEntry | undefined> {
    const fn = await this.store.getFunction(name);
    const v = fn ? await this.store.getVersion(name, fn.activeVersion) : undefined;
    if (!v) return undefined;
    const active = await this.toActive(name, v);
    const aliases = new Map<string, LoadedAlias>();
    for (const record of (await this.aliasStore?.listAliases(name)) ?? []) {
      const versions = new Map<number, ActiveVersion>();
      for (const n of [record.version, ...(record.canary ? [record.canary.version] : [])]) {
        if (n === active.version) {
          versions.set(n, active);
          continue;
        }
        const found = await this.store.getVersion(name, n);
        if (found) versions.set(n, await this.toActive(name, found));
      }
      aliases.set(record.name, { record, versions });
    }
    return { active, aliases };
  }
}

function aliasGone(name: string, alias: string, version: number): KumoError {
  return new KumoError(
    'alias_not_found',
    `alias '${alias}' of function '${name}' points at version ${version}, which is gone`,
  );
}
