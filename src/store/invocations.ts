/**
 * Persistence of invocations: the history of every run and, for async and cron ones, the durable
 * queue (leases, retries, dead letters, callbacks), plus the cron schedules. One table serves both
 * so that an invocation has one record from enqueue to its terminal state.
 */
import type {
  AttemptRecord,
  CallbackDelivery,
  InvocationRecord,
  InvocationStatus,
  LogLine,
  Outcome,
  RecordedRequest,
  ScheduleRecord,
  Trigger,
} from '../core/index.ts';

/** A new queued invocation (async request or cron tick). */
export interface NewQueuedInvocation {
  id: string;
  function: string;
  trigger: Trigger;
  maxAttempts: number;
  createdAt: number;
  runAt: number;
  request: RecordedRequest;
  /** The whole body: the run needs it. */
  body: Buffer;
  scheduleId: string | null;
  /** Runs with the same serial key never overlap (cron `overlap: queue`). */
  serialKey: string | null;
  callbackUrl: string | null;
  taskToken: string | null;
  bodiesKept: boolean;
}

/** A queued invocation handed to a worker: its attempt number is already counted. */
export interface ClaimedRun {
  id: string;
  function: string;
  trigger: Trigger;
  attempt: number;
  maxAttempts: number;
  createdAt: number;
  runAt: number;
  request: RecordedRequest;
  body: Buffer;
  scheduleId: string | null;
  serialKey: string | null;
  hasCallback: boolean;
  bodiesKept: boolean;
}

/** How a run ended, to record on the invocation and its attempt. */
export interface RunResult {
  version: number | null;
  startedAt: number;
  finishedAt: number;
  statusCode: number;
  outcome: Outcome;
  cold: boolean;
  responseHeaders: Record<string, string>;
  responseBody: Buffer;
  responseTruncated: boolean;
  error: { code: string; message: string } | null;
  /**
   * Bytes of the request body kept once the invocation has succeeded (the history's body limit):
   * the whole body is needed only while it may run again (a failed or dead one can be redriven).
   */
  keepRequestBytes: number;
}

/** What happens to the invocation after a run. */
export type RunNext = { status: 'succeeded' | 'failed' | 'dead' } | { status: 'queued'; runAt: number };

/** A callback to deliver. */
export interface CallbackJob {
  id: string;
  url: string;
  taskToken: string | null;
  attempts: number;
}

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

/** Queue depth of one function. */
export interface QueueDepth {
  function: string;
  queued: number;
  running: number;
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

/** Persistence of invocations and attempts. */
export interface InvocationStore {
  /** Records finished sync invocations (one transaction for the batch). */
  insertFinished(records: InvocationRecord[]): void;
  /** Stores a queued invocation durably; once this returns, a crash does not lose it. */
  enqueue(invocation: NewQueuedInvocation): void;
  /** Stores several in one transaction (group commit of concurrent async requests). */
  enqueueMany(invocations: readonly NewQueuedInvocation[]): void;
  /**
   * Claims up to `limit` ready invocations, oldest first, skipping `excludeFunctions` and
   * `excludeSerialKeys`, at most `perFunction(name)` of each function: marks them running with a
   * lease until `leaseUntil(name)` and counts the attempt.
   */
  claim(options: {
    now: number;
    limit: number;
    excludeFunctions: readonly string[];
    excludeSerialKeys: readonly string[];
    perFunction: (fn: string) => number;
    leaseUntil: (fn: string) => number;
  }): ClaimedRun[];
  /** Records a run's result and the invocation's next status; false if the invocation is gone. */
  finishRun(run: ClaimedRun, result: RunResult, next: RunNext): boolean;
  /** Records several runs' results in one transaction. */
  finishRuns(items: readonly { run: ClaimedRun; result: RunResult; next: RunNext }[]): void;
  /** Puts a claimed run back in the queue without counting its attempt (it never reached the function). */
  release(id: string, attempt: number, runAt: number): void;
  /**
   * Requeues every `running` invocation whose lease ended before `now` (all of them at startup,
   * when this process is the only worker): the interrupted attempt is recorded, the next is the retry.
   */
  recoverRunning(now: number, onlyExpired: boolean): number;
  /** Queues a failed or dead invocation again with `extraAttempts` more runs; its record, or undefined. */
  redrive(id: string, now: number, extraAttempts: number): InvocationRecord | undefined;
  /** Invocations whose callback is due, oldest first, skipping those bound for `excludeDestinations`. */
  dueCallbacks(now: number, limit: number, excludeDestinations?: readonly string[]): CallbackJob[];
  /** Records one delivery attempt in the invocation's history (nothing when the invocation is gone). */
  recordDelivery(id: string, delivery: CallbackDelivery): void;
  /** The delivery attempts of an invocation's callback, oldest first. */
  deliveries(id: string): CallbackDelivery[];
  /** Records a callback delivery attempt. */
  updateCallback(
    id: string,
    state: 'pending' | 'delivered' | 'failed',
    attempts: number,
    nextAt: number | null,
    error: string | null,
  ): void;

  get(id: string): InvocationRecord | undefined;
  attempts(id: string): AttemptRecord[];
  /** The log lines of one invocation, oldest first. */
  logs(id: string, limit: number): LogLine[];
  /** Invocations without their bodies, newest first. */
  list(query: HistoryQuery): InvocationRecord[];
  /** Finished invocations created since `since` (for p50/p95/p99 and time buckets), newest first. */
  statsSamples(since: number, fn: string | undefined, limit: number): StatsSample[];
  /** Finished invocations of `fn` created since `start`, grouped in buckets of `step` ms; empty ones left out. */
  statsBuckets(fn: string, start: number, step: number): StatsBucketRow[];
  queueDepth(): QueueDepth[];
  /** Enqueue time of the oldest ready queued invocation (for the async lag). */
  oldestReady(now: number): number | undefined;
  /** Queued or running invocations of a schedule. */
  activeForSchedule(scheduleId: string): number;
  /**
   * Drops finished invocations older than `olderThan`, and those of `functions` (every function
   * when undefined) beyond the newest `maxPerFunction` of each.
   */
  prune(maxPerFunction: number, olderThan: number, functions?: readonly string[]): Pruned;
  /** Drops the `limit` oldest finished invocations (one short step of a byte-bound prune). */
  pruneOldest(limit: number): Pruned;
  /** Bytes of the request and response bodies of finished invocations (reads them all: at start only). */
  bodyBytes(): number;
}

/** Persistence of cron schedules. */
export interface ScheduleStore {
  listSchedules(fn?: string): ScheduleRecord[];
  getSchedule(id: string): ScheduleRecord | undefined;
  putSchedule(schedule: ScheduleRecord): void;
  deleteSchedule(id: string): boolean;
  /** Replaces the function's `manifest` schedules (keeping last ticks of unchanged ones). */
  replaceManifestSchedules(fn: string, schedules: ScheduleRecord[]): void;
  /** Removes every schedule of a function (it was deleted). */
  deleteFunctionSchedules(fn: string): number;
  markTick(id: string, at: number): void;
}
