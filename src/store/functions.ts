/**
 * Functions, their versions, where each version came from, and their log lines. Versions are
 * numbered per function and never reused; exactly one is active (serving) at a time.
 */
import type { FunctionRecord, LogLine, VersionRecord } from '../core/index.ts';

/** What a log query selects. */
export interface LogQuery {
  function: string;
  /** Only lines at or after this time (epoch ms). */
  since?: number;
  /** Only lines before this time (epoch ms). */
  until?: number;
  /** Only lines with an id greater than this (for following). */
  afterId?: number;
  /** Only lines containing this text, ignoring ASCII case (log search). */
  contains?: string;
  /** At most this many, the newest ones, returned oldest first. */
  limit: number;
}

/** Where a version's source came from (git deploys record the commit). */
export interface VersionSource {
  function: string;
  version: number;
  kind: 'upload' | 'zip' | 'git' | 'watch';
  repository: string | null;
  ref: string | null;
  commit: string | null;
}

/** Persistence of functions, versions, version sources and function log lines. */
export interface FunctionStore {
  getFunction(name: string): Promise<FunctionRecord | undefined>;
  /** Every function, by name. */
  listFunctions(): Promise<FunctionRecord[]>;
  /** Number of the next version of `name` (1 for a new function). Versions are never reused. */
  nextVersion(name: string): Promise<number>;
  /** Records a new version and makes it active, atomically. */
  addVersion(version: VersionRecord): Promise<void>;
  getVersion(name: string, version: number): Promise<VersionRecord | undefined>;
  /** The versions of `name`, oldest first. */
  listVersions(name: string): Promise<VersionRecord[]>;
  /** Switches the active version atomically; false if the function or version is unknown. */
  setActiveVersion(name: string, version: number, now: number): Promise<boolean>;
  /** Removes a function with its versions and log lines; false if it was unknown. */
  deleteFunction(name: string): Promise<boolean>;
  /** Removes these versions of `name` (never the active one nor one an alias names); returns how many were removed. */
  deleteVersions(name: string, versions: number[]): Promise<number>;
  /** Whether any version of any function still uses this build folder. */
  buildInUse(buildDir: string): Promise<boolean>;
  /** Whether any version of any function still uses this uploaded bundle. */
  bundleInUse(bundleHash: string): Promise<boolean>;
  /** Which of these content hashes a version (of any function) still has: their builds are in use. */
  hashesInUse(hashes: readonly string[]): Promise<Set<string>>;

  /** Records where a version came from (replacing an earlier record of it). */
  recordSource(source: VersionSource): Promise<void>;
  getSource(fn: string, version: number): Promise<VersionSource | undefined>;

  /** Stores log lines in one write and sets each line's `id` (increasing in the order given). */
  appendLogs(lines: LogLine[]): Promise<void>;
  queryLogs(query: LogQuery): Promise<LogLine[]>;
  /** Keeps at most `maxPerFunction` newest lines of each function; returns how many were removed. */
  pruneLogs(maxPerFunction: number): Promise<number>;
}
