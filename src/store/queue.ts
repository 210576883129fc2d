/**
 * The durable queue of async and cron invocations: enqueue, claim with a lease, finish (with the
 * next status: done, dead, or queued again after a backoff), release, recover expired leases,
 * redrive, and the callbacks due once an invocation is terminal. An entry of the queue is the
 * invocation's history record (invocations.ts reads it), from enqueue to its terminal state.
 */
import type { CallbackDelivery, InvocationRecord, Outcome, RecordedRequest, Trigger } from '../core/index.ts';

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
  /** The alias (or version number) the call named: each run resolves it again. */
  alias?: string | null;
  /**
   * A cron tick's key (its schedule and due time): at most one invocation with a given key is
   * ever stored, so storing it is also claiming the tick, in one step. Null for other triggers.
   */
  tickKey?: string | null;
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
  /** The alias (or version number) the call named, or null. */
  alias: string | null;
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

/** Queue depth of one function. */
export interface QueueDepth {
  function: string;
  queued: number;
  running: number;
}

/** What one claim selects and how long its leases last. */
export interface ClaimOptions {
  now: number;
  limit: number;
  excludeFunctions: readonly string[];
  excludeSerialKeys: readonly string[];
  /** At most this many runs of function `fn` in this claim. */
  perFunction: (fn: string) => number;
  /** When the lease of a run of `fn` ends. */
  leaseUntil: (fn: string) => number;
  /** The node claiming (recorded on the invocation and its attempt), or null. */
  node?: string | null;
}

/** A callback's state after a delivery attempt. */
export type CallbackState = 'pending' | 'delivered' | 'failed';

/** Persistence of the queue. */
export interface QueueStore {
  /**
   * Stores a queued invocation durably; once the promise resolves, a crash does not lose it.
   * False, and nothing stored, when an invocation with the same tick key exists (whoever stored it).
   */
  enqueue(invocation: NewQueuedInvocation): Promise<boolean>;
  /**
   * Stores several in one transaction (group commit of concurrent async requests); whether each
   * was stored, in order (false: its tick key was taken, by an earlier one of the list too).
   */
  enqueueMany(invocations: readonly NewQueuedInvocation[]): Promise<boolean[]>;
  /**
   * Claims up to `limit` ready invocations, oldest first, skipping `excludeFunctions` and
   * `excludeSerialKeys`, at most one per serial key and `perFunction(name)` of each function:
   * marks them running with a lease until `leaseUntil(name)` and counts the attempt. An
   * invocation is claimed by one caller only, however many claim at once.
   */
  claim(options: ClaimOptions): Promise<ClaimedRun[]>;
  /** Records a run's result and the invocation's next status; false if the invocation is gone. */
  finishRun(run: ClaimedRun, result: RunResult, next: RunNext): Promise<boolean>;
  /** Records several runs' results in one transaction. */
  finishRuns(items: readonly { run: ClaimedRun; result: RunResult; next: RunNext }[]): Promise<void>;
  /**
   * Extends the leases of runs still in progress (each `id` at its `attempt`) to `until`; returns
   * the ids whose lease was lost (the run was taken over or is gone): their results will be dropped.
   */
  renewLeases(runs: readonly { id: string; attempt: number }[], until: number): Promise<string[]>;
  /** Puts a claimed run back in the queue without counting its attempt (it never reached the function). */
  release(id: string, attempt: number, runAt: number): Promise<void>;
  /**
   * Requeues every `running` invocation (only those whose lease ended before `now` when
   * `onlyExpired`): the interrupted attempt is recorded, the next is the retry. Returns how many.
   */
  recoverRunning(now: number, onlyExpired: boolean): Promise<number>;
  /** Queues a failed or dead async or cron invocation again with `extraAttempts` more runs; its record, or undefined. */
  redrive(id: string, now: number, extraAttempts: number): Promise<InvocationRecord | undefined>;
  /**
   * Claims invocations whose callback is due, oldest first, skipping those bound for
   * `excludeDestinations`: each is handed to one caller only, and is not due again before
   * `claimUntil` (a caller that dies mid-delivery leaves it to another after that).
   */
  dueCallbacks(
    now: number,
    limit: number,
    excludeDestinations?: readonly string[],
    claimUntil?: number,
  ): Promise<CallbackJob[]>;
  /** Records one delivery attempt in the invocation's history (nothing when the invocation is gone). */
  recordDelivery(id: string, delivery: CallbackDelivery): Promise<void>;
  /** Records the state of a callback after a delivery attempt. */
  updateCallback(
    id: string,
    state: CallbackState,
    attempts: number,
    nextAt: number | null,
    error: string | null,
  ): Promise<void>;
  /** Queued and running invocations per function (functions with none left out), by name. */
  queueDepth(): Promise<QueueDepth[]>;
  /** Enqueue time of the oldest ready queued invocation (for the async lag). */
  oldestReady(now: number): Promise<number | undefined>;
  /** Queued or running invocations of a schedule. */
  activeForSchedule(scheduleId: string): Promise<number>;
}
