/**
 * The invocation history: every run's record (sync requests written in batches, async and cron
 * ones by the queue, whose entry is their record), its attempts, log lines and callback
 * deliveries; listings, stats and retention.
 */
import type {
  AttemptRecord,
  CallbackDelivery,
  InvocationRecord,
  InvocationStatus,
  LogLine,
  Trigger,
} from '../core/index.ts';

/** What a history listing selects. Newest first. */
export interface HistoryQuery {
  function?: string | undefined;
  status?: InvocationStatus | undefined;
  trigger?: Trigger | undefined;
  since?: number | undefined;
  /** Only invocations created before this (paging). */
  before?: number | undefined;
  limit: number;
}

/** What a retention step removed: invocations, and the bytes of their bodies. */
export interface Pruned {
  removed: number;
  bytes: number;
}

/** One finished invocation's figures, for stats. */
export interface StatsSample {
  function: string;
  /** When the invocation was created (epoch ms), for bucketing. */
  createdAt: number;
  status: InvocationStatus;
  durationMs: number;
  cold: boolean;
}

/** A function's finished invocations in one time bucket. */
export interface StatsBucketRow {
  /** Which bucket: 0 is the one starting at the window's start. */
  index: number;
  count: number;
  /** Failed and dead ones. */
  errors: number;
  coldStarts: number;
  /** Their durations (ms), in no order. */
  durations: number[];
}

/** Persistence of the invocation history (queued and running entries are the queue's: see queue.ts). */
export interface InvocationStore {
  /** Records finished sync invocations (one transaction for the batch). */
  insertFinished(records: InvocationRecord[]): Promise<void>;
  get(id: string): Promise<InvocationRecord | undefined>;
  /** The attempts of an invocation, oldest first. */
  attempts(id: string): Promise<AttemptRecord[]>;
  /** The log lines of one invocation, oldest first. */
  logs(id: string, limit: number): Promise<LogLine[]>;
  /** The delivery attempts of an invocation's callback, oldest first. */
  deliveries(id: string): Promise<CallbackDelivery[]>;
  /** Invocations without their bodies, newest first. */
  list(query: HistoryQuery): Promise<InvocationRecord[]>;
  /** Finished invocations created since `since` (for p50/p95/p99 and time buckets), newest first. */
  statsSamples(since: number, fn: string | undefined, limit: number): Promise<StatsSample[]>;
  /** Finished invocations of `fn` created since `start`, grouped in buckets of `step` ms; empty ones left out. */
  statsBuckets(fn: string, start: number, step: number): Promise<StatsBucketRow[]>;
  /**
   * Drops finished invocations older than `olderThan`, and those of `functions` (every function
   * when undefined) beyond the newest `maxPerFunction` of each. Queued and running ones stay.
   */
  prune(maxPerFunction: number, olderThan: number, functions?: readonly string[]): Promise<Pruned>;
  /** Drops the `limit` oldest finished invocations (one short step of a byte-bound prune). */
  pruneOldest(limit: number): Promise<Pruned>;
  /** Bytes of the request and response bodies and headers of finished invocations (reads them all: at start only). */
  bodyBytes(): Promise<number>;
}
