/**
 * Persistence behind one interface (DESIGN.md "store/"). SQLite is the default; the scale-out
 * plan swaps in PostgreSQL behind the same methods.
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

/** The persistence contract of kumo. All methods are synchronous on SQLite; callers must not assume it. */
export interface Store {
  getFunction(name: string): FunctionRecord | undefined;
  listFunctions(): FunctionRecord[];
  /** Number of the next version of `name` (1 for a new function). Versions are never reused. */
  nextVersion(name: string): number;
  /** Records a new version and makes it active, atomically. */
  addVersion(version: VersionRecord): void;
  getVersion(name: string, version: number): VersionRecord | undefined;
  listVersions(name: string): VersionRecord[];
  /** Switches the active version atomically; false if the function or version is unknown. */
  setActiveVersion(name: string, version: number, now: number): boolean;
  /** Removes a function with its versions and logs. */
  deleteFunction(name: string): boolean;
  /** Removes these versions of `name` (never the active one); returns how many were removed. */
  deleteVersions(name: string, versions: number[]): number;
  /** Whether any version of any function still uses this build folder or this uploaded bundle. */
  buildInUse(buildDir: string): boolean;
  bundleInUse(bundleHash: string): boolean;

  appendLogs(lines: LogLine[]): void;
  queryLogs(query: LogQuery): LogLine[];
  /** Keeps at most `maxPerFunction` newest lines of each function; returns how many were removed. */
  pruneLogs(maxPerFunction: number): number;

  close(): void;
}
