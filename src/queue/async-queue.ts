/**
 * The durable async queue and its worker. An accepted invocation is a row in the store before the
 * client hears 202; the worker claims ready rows (oldest first) under a global worker bound and
 * each function's async concurrency, runs them through the injected QueueRunner (the gateway's path,
 * so the pool is shared with sync traffic), and records the result: succeeded, failed (4xx),
 * queued again with exponential backoff (5xx, timeout, crash), or dead once the retries are spent.
 * Delivery is at-least-once: runs interrupted by a crash are requeued at the next start.
 *
 * A run holds a lease of `visibilityTimeoutMs`, renewed every third of it while the run goes on;
 * a node that dies stops renewing, and once its leases end any node's reaper requeues the runs
 * (the interrupted attempt recorded). On a store shared by several nodes a starting node requeues
 * only expired leases: the others' runs are theirs. A result is recorded only while its run still
 * holds the invocation at that attempt, so a run taken over never gets a second terminal state.
 */
import { randomUUID } from 'node:crypto';
import {
  KumoError,
  type Outcome,
  type RecordedRequest,
  type ServerLog,
  type Trigger,
} from '../core/index.ts';
import type { ClaimedRun, NewQueuedInvocation, QueueStore, RunNext, RunResult } from '../store/index.ts';
import { backoffDelay } from './backoff.ts';

/** A queued invocation to run (the gateway runs it as a BufferedInvocation). */
export interface QueueJob {
  id: string;
  function: string;
  attempt: number;
  trigger: Trigger;
  request: RecordedRequest;
  body: Buffer;
  /** The alias (or version number) the call named, or null for the active version. */
  alias?: string | null;
}

/** What a run produced (the gateway's BufferedResult). */
export interface QueueJobResult {
  version: number | null;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  outcome: Outcome;
  cold: boolean;
  startedAt: number;
  finishedAt: number;
  error: { code: string; message: string } | null;
}

/** Runs one queued invocation; never rejects (the gateway's Invoker). */
export interface QueueRunner {
  runQueued(job: QueueJob): Promise<QueueJobResult>;
}

/** The queue settings of a function, from its active version (undefined when it is not deployed). */
export interface FunctionQueueSettings {
  /** Parallel async runs. */
  concurrency: number;
  /** Retries after the first run. */
  retries: number;
  timeoutMs: number;
  bodies: boolean;
}

/** A new async or cron invocation. */
export interface EnqueueInput {
  id?: string;
  function: string;
  trigger: Trigger;
  request: RecordedRequest;
  body: Buffer;
  scheduleId?: string | null;
  serialKey?: string | null;
  callbackUrl?: string | null;
  taskToken?: string | null;
  /** The alias (or version number) the call named; each run resolves it again. */
  alias?: string | null;
}

/** What the queue needs. */
export interface AsyncQueueOptions {
  store: QueueStore;
  runner: QueueRunner;
  settings: (fn: string) => FunctionQueueSettings | undefined;
  log: ServerLog;
  /** Async runs at once over all functions. */
  workers: number;
  /** First retry delay; doubled each retry. */
  backoffMs: number;
  maxBackoffMs?: number;
  now?: () => number;
  random?: () => number;
  newId?: () => string;
  /** Ready → started delay of each run (for the async lag metric). */
  onStart?: (lagMs: number) => void;
  /** An invocation reached a terminal state with a callback to deliver. */
  onCallbackDue?: () => void;
  /** Queued and running invocations of one function: enqueue refuses (429 queue_full) above. */
  maxPerFunction?: number;
  /** Queued and running invocations of all functions: enqueue refuses above. */
  maxTotal?: number;
  /** Bytes of a succeeded invocation's request body kept in the history (the rest is dropped). */
  keepRequestBytes?: number;
  /** Told of each refusal (for the throttled server log). */
  onFull?: (fn: string, scope: 'function' | 'total', depth: number) => void;
  /** This node's id, recorded on each attempt it runs. */
  nodeId?: string | null;
  /** A run's lease, renewed while it runs; 0: the function's timeout plus a minute, never renewed. */
  visibilityTimeoutMs?: number;
  /** Other nodes use the same store: at start, only expired leases are requeued. */
  shared?: boolean;
  /** Whether the store is known to be down (intake refuses with 503 store_unavailable at once). */
  storeDown?: () => boolean;
  /** A write to the store failed (the store's health is told). */
  onStoreError?: (err: unknown) => void;
}

/** How long a client refused by a full queue is told to wait (s). */
const FULL_RETRY_AFTER_S = 5;
/** How long a client refused while the store is down is told to wait (s). */
const STORE_RETRY_AFTER_S = 2;
/** Wait between tries to record results while the store fails. */
const FINISH_RETRY_MS = 500;

/** Lease slack over the function's timeout: past it a run is presumed lost and requeued. */
const LEASE_SLACK_MS = 60_000;
/** How often expired leases are looked for. */
const REAP_EVERY_MS = 10_000;
/** Longest sleep between looks at the queue (delayed retries become ready without a wake-up). */
const MAX_IDLE_MS = 1000;

/** The queue and its worker. */
export class AsyncQueue {
  private readonly o: Required<
    Omit<AsyncQueueOptions, 'onStart' | 'onCallbackDue' | 'onFull' | 'storeDown' | 'onStoreError'>
  > &
    Pick<AsyncQueueOptions, 'onStart' | 'onCallbackDue' | 'onFull' | 'storeDown' | 'onStoreError'>;
  /** Runs in progress on this node, by id: their attempt (renewed together). */
  private readonly leased: Map<string, number> = new Map();
  private renewTimer: NodeJS.Timeout | undefined;
  /** Queued and running invocations per function (committed or on their way), resynced from the store at each reap. */
  private readonly depth: Map<string, number> = new Map();
  private depthTotal = 0;
  private readonly running: Map<string, number> = new Map();
  private readonly runningSerial: Set<string> = new Set();
  private readonly inflight: Set<Promise<void>> = new Set();
  private total = 0;
  private timer: NodeJS.Timeout | undefined;
  private pendingInserts: {
    row: NewQueuedInvocation;
    /** Called with whether the row was stored (false: its tick key was taken). */
    resolve: (stored: boolean) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private pendingFinishes: { run: ClaimedRun; result: RunResult; next: RunNext; done: () => void }[] = [];
  private lastReap = 0;
  private pumpScheduled = false;
  /** A pump is claiming: another waits for it (two at once would both count the same free workers). */
  private pumping = false;
  private pumpAgain = false;
  private started = false;
  /** No new claims. */
  private stopped = false;
  /** The store may be closed: late results are dropped (their runs are requeued at the next start). */
  private closed = false;

  constructor(options: AsyncQueueOptions) {
    this.o = {
      maxBackoffMs: 5 * 60_000,
      now: Date.now,
      random: Math.random,
      newId: randomUUID,
      maxPerFunction: Number.MAX_SAFE_INTEGER,
      maxTotal: Number.MAX_SAFE_INTEGER,
      keepRequestBytes: Number.MAX_SAFE_INTEGER,
      nodeId: null,
      visibilityTimeoutMs: 0,
      shared: false,
      ...options,
    };
  }

  /** How often expired leases are looked for. */
  private get reapEveryMs(): number {
    const vt = this.o.visibilityTimeoutMs;
    return vt > 0 ? Math.min(REAP_EVERY_MS, Math.max(250, Math.floor(vt / 2))) : REAP_EVERY_MS;
  }

  /** When a lease taken now ends. */
  private leaseEnd(fn: string, now: number): number {
    const vt = this.o.visibilityTimeoutMs;
    return vt > 0 ? now + vt : now + (this.o.settings(fn)?.timeoutMs ?? 60_000) + LEASE_SLACK_MS;
  }

  /** Extends the leases of the runs in progress; runs whose lease was lost are logged (their results will be dropped). */
  private async renew(): Promise<void> {
    if (!this.leased.size || this.closed) return;
    const renewing = new Map(this.leased);
    const runs = [...renewing].map(([id, attempt]) => ({ id, attempt }));
    try {
      // A run that finished while the renewal was on its way is no longer `running` in the store,
      // so the renewal misses it: only runs still going here have lost their lease.
      const lost = (await this.o.store.renewLeases(runs, this.o.now() + this.o.visibilityTimeoutMs)).filter(
        (id) => this.leased.get(id) === renewing.get(id),
      );
      if (lost.length)
        this.o.log.warn('async queue: runs lost their lease (taken over by another node, or removed)', {
          count: lost.length,
        });
    } catch (err) {
      this.o.log.warn('async queue: renewing leases failed', { error: String(err) });
    }
  }

  /**
   * Throws queue_full (429, Retry-After) when function `fn`'s queue or the whole queue is at its
   * bound. The async intake asks before reading a body, and enqueue asks again.
   */
  checkRoom(fn: string): void {
    if (this.o.storeDown?.())
      throw new KumoError(
        'store_unavailable',
        `the store cannot be reached, so no async invocation can be accepted durably: retry after ${STORE_RETRY_AFTER_S} s`,
        { retryAfter: STORE_RETRY_AFTER_S },
      );
    const mine = this.depth.get(fn) ?? 0;
    const scope =
      mine >= this.o.maxPerFunction ? 'function' : this.depthTotal >= this.o.maxTotal ? 'total' : undefined;
    if (!scope) return;
    this.o.onFull?.(fn, scope, scope === 'function' ? mine : this.depthTotal);
    throw new KumoError(
      'queue_full',
      scope === 'function'
        ? `the async queue of '${fn}' is full (${mine} queued or running, the bound is ${this.o.maxPerFunction}, kumo up --queue-max): retry after ${FULL_RETRY_AFTER_S} s`
        : `the server's async queue is full (${this.depthTotal} queued or running, the bound is ${this.o.maxTotal}, kumo up --queue-max-total): retry after ${FULL_RETRY_AFTER_S} s`,
      { retryAfter: FULL_RETRY_AFTER_S },
    );
  }

  /** Counts one more (or, with -1, one fewer) queued or running invocation of `fn`. */
  private count(fn: string, delta: 1 | -1): void {
    const n = (this.depth.get(fn) ?? 0) + delta;
    if (n > 0) this.depth.set(fn, n);
    else this.depth.delete(fn);
    this.depthTotal = Math.max(0, this.depthTotal + delta);
  }

  /** Reads the depth from the store again (redrives and other writers change it behind the queue's back). */
  private async recount(): Promise<void> {
    const depths = await this.o.store.queueDepth();
    this.depth.clear();
    this.depthTotal = 0;
    for (const d of depths) {
      this.depth.set(d.function, d.queued + d.running);
      this.depthTotal += d.queued + d.running;
    }
    for (const p of this.pendingInserts) this.count(p.row.function, 1);
  }

  /**
   * Stores an invocation durably and wakes the worker; resolves with its id once committed.
   * Invocations arriving in the same event-loop turn share one transaction (group commit).
   */
  async enqueue(input: EnqueueInput): Promise<string> {
    const { id } = await this.insert(input, null);
    return id;
  }

  /**
   * Stores a cron tick's invocation unless one with the same tick key was stored before (by
   * this node or another): the insert is the claim of the tick. Resolves with the id once
   * committed, or undefined when the key was taken and nothing was stored.
   */
  async enqueueTick(input: EnqueueInput, tickKey: string): Promise<string | undefined> {
    const { id, stored } = await this.insert(input, tickKey);
    return stored ? id : undefined;
  }

  private insert(input: EnqueueInput, tickKey: string | null): Promise<{ id: string; stored: boolean }> {
    try {
      this.checkRoom(input.function);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.count(input.function, 1);
    const id = input.id ?? this.o.newId();
    const settings = this.o.settings(input.function);
    const now = this.o.now();
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({
        row: {
          id,
          function: input.function,
          trigger: input.trigger,
          maxAttempts: (settings?.retries ?? 2) + 1,
          createdAt: now,
          runAt: now,
          request: input.request,
          body: input.body,
          scheduleId: input.scheduleId ?? null,
          serialKey: input.serialKey ?? null,
          callbackUrl: input.callbackUrl ?? null,
          taskToken: input.taskToken ?? null,
          bodiesKept: settings?.bodies ?? true,
          alias: input.alias ?? null,
          tickKey,
        },
        resolve: (stored) => resolve({ id, stored }),
        reject,
      });
      if (this.pendingInserts.length === 1) setImmediate(() => void this.commitInserts());
    });
  }

  private async commitInserts(): Promise<void> {
    const batch = this.pendingInserts;
    this.pendingInserts = [];
    let stored: boolean[];
    try {
      stored = await this.o.store.enqueueMany(batch.map((b) => b.row));
    } catch (err) {
      this.o.onStoreError?.(err);
      // Not accepted: the client is told to retry, and nothing it was told was accepted is lost.
      const refusal = new KumoError(
        'store_unavailable',
        `the store could not take the invocation (${String(err)}): retry after ${STORE_RETRY_AFTER_S} s`,
        { retryAfter: STORE_RETRY_AFTER_S },
      );
      for (const b of batch) {
        this.count(b.row.function, -1);
        b.reject(refusal);
      }
      return;
    }
    batch.forEach((b, i) => {
      const ok = stored[i] === true;
      if (!ok) this.count(b.row.function, -1);
      b.resolve(ok);
    });
    // A flood for a function already at its concurrency must not pump for each batch: the claim
    // would walk past all of its queued rows every time (quadratic in the backlog). A finishing
    // run wakes the pump anyway.
    if (batch.some((b) => this.hasRoom(b.row.function))) this.wake();
  }

  /** Whether a run of `fn` could start now. */
  private hasRoom(fn: string): boolean {
    return this.total < this.o.workers && (this.running.get(fn) ?? 0) < this.capacity(fn);
  }

  /** Records finished runs in one transaction per event-loop turn, then frees their slots. */
  private async commitFinishes(): Promise<void> {
    const batch = this.pendingFinishes;
    this.pendingFinishes = [];
    // While the store is down the results wait here (their runs keep their slots), tried again
    // until the lease would have ended: after that the run is another node's to redo anyway.
    const giveUpAt = this.o.now() + Math.max(this.o.visibilityTimeoutMs, FINISH_RETRY_MS);
    for (let tries = 0; !this.closed; tries++) {
      try {
        await this.o.store.finishRuns(batch);
        if (tries)
          this.o.log.info('async queue: results recorded after the store came back', { count: batch.length });
        break;
      } catch (err) {
        this.o.onStoreError?.(err);
        if (tries === 0 || this.o.now() >= giveUpAt)
          this.o.log.error('async queue: recording results failed', {
            count: batch.length,
            error: String(err),
            retrying: this.o.now() < giveUpAt,
          });
        if (this.o.now() >= giveUpAt) break;
        await new Promise((r) => setTimeout(r, FINISH_RETRY_MS));
      }
    }
    for (const b of batch) {
      if (b.next.status !== 'queued') this.count(b.run.function, -1);
      b.done();
    }
  }

  /** Counts the queue, recovers runs a previous process left behind, then starts working. */
  async start(): Promise<number> {
    await this.recount();
    const recovered = await this.o.store.recoverRunning(this.o.now(), this.o.shared);
    if (recovered) this.o.log.warn('requeued async runs interrupted by the last stop', { count: recovered });
    this.started = true;
    if (this.o.visibilityTimeoutMs > 0) {
      this.renewTimer = setInterval(() => void this.renew(), Math.max(100, this.o.visibilityTimeoutMs / 3));
      this.renewTimer.unref();
    }
    this.wake();
    return recovered;
  }

  /** Looks at the queue soon (after an enqueue, a redrive, or a finished run). */
  wake(): void {
    if (!this.started || this.stopped || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** Runs in progress. */
  busy(): number {
    return this.total;
  }

  /**
   * Stops claiming and waits up to `graceMs` for runs in progress. Runs still going after that
   * stay `running` in the store and are requeued at the next start; their late results are dropped.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.inflight.size) {
      this.closed = true;
      clearInterval(this.renewTimer);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    this.closed = true;
    clearInterval(this.renewTimer);
  }

  /** Claims what there is room for and launches it; one pump at a time. Never rejects. */
  private async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.o.now();
    try {
      if (now - this.lastReap > this.reapEveryMs) {
        this.lastReap = now;
        await this.o.store.recoverRunning(now, true);
        await this.recount();
      }
      const free = this.o.workers - this.total;
      if (free > 0) {
        const saturated = [...this.running].filter(([fn, n]) => n >= this.capacity(fn)).map(([fn]) => fn);
        const claimed = await this.o.store.claim({
          now,
          limit: free,
          excludeFunctions: saturated,
          excludeSerialKeys: [...this.runningSerial],
          perFunction: (fn) => this.capacity(fn) - (this.running.get(fn) ?? 0),
          leaseUntil: (fn) => this.leaseEnd(fn, now),
          node: this.o.nodeId,
        });
        // Stopped while claiming: the runs go back untouched rather than start during shutdown.
        if (this.stopped) for (const run of claimed) await this.o.store.release(run.id, run.attempt, now);
        else for (const run of claimed) this.launch(run);
      }
      await this.sleep(now);
    } catch (err) {
      this.o.log.error('async queue: claiming failed', { error: String(err) });
      this.arm(now, undefined);
    } finally {
      this.pumping = false;
    }
    if (this.pumpAgain) {
      this.pumpAgain = false;
      this.wake();
    }
  }

  /** Sleeps until the next delayed run is due, at most MAX_IDLE_MS. */
  private async sleep(now: number): Promise<void> {
    this.arm(now, await this.o.store.oldestReady(Number.MAX_SAFE_INTEGER));
  }

  /** Sets the timer of the next pump: when `next` is due, at most MAX_IDLE_MS from now. */
  private arm(now: number, next: number | undefined): void {
    if (this.stopped) return;
    const ms = next === undefined ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, Math.max(5, next - now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), ms);
    this.timer.unref();
  }

  private capacity(fn: string): number {
    return this.o.settings(fn)?.concurrency ?? 1;
  }

  private launch(run: ClaimedRun): void {
    this.total++;
    this.running.set(run.function, (this.running.get(run.function) ?? 0) + 1);
    if (run.serialKey) this.runningSerial.add(run.serialKey);
    this.leased.set(run.id, run.attempt);
    this.o.onStart?.(this.o.now() - run.runAt);
    const p = this.execute(run).finally(() => {
      this.inflight.delete(p);
      this.leased.delete(run.id);
      this.total--;
      const left = (this.running.get(run.function) ?? 1) - 1;
      if (left > 0) this.running.set(run.function, left);
      else this.running.delete(run.function);
      if (run.serialKey) this.runningSerial.delete(run.serialKey);
      this.wake();
    });
    this.inflight.add(p);
  }

  private async execute(run: ClaimedRun): Promise<void> {
    const result = await this.o.runner.runQueued({
      id: run.id,
      function: run.function,
      attempt: run.attempt,
      trigger: run.trigger,
      request: run.request,
      body: run.body,
      alias: run.alias,
    });
    // After stop the store may be closed: the run stays `running` and is requeued at the next start.
    if (this.closed) return;
    if (result.error?.code === 'shutting_down') {
      await this.o.store.release(run.id, run.attempt, this.o.now());
      return;
    }
    const next = this.next(run, result);
    if (next.status === 'queued') {
      this.o.log.debug('async run failed; retrying', {
        id: run.id,
        function: run.function,
        attempt: run.attempt,
        status: result.status,
      });
    } else if (next.status === 'dead') {
      this.o.log.warn('async invocation is dead after its last attempt', {
        id: run.id,
        function: run.function,
        attempts: run.attempt,
        status: result.status,
      });
    }
    const recorded: RunResult = {
      version: result.version,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      statusCode: result.status,
      outcome: result.outcome,
      cold: result.cold,
      responseHeaders: result.headers,
      responseBody: result.body,
      responseTruncated: result.truncated,
      error: result.error,
      keepRequestBytes: this.o.keepRequestBytes,
    };
    await new Promise<void>((done) => {
      this.pendingFinishes.push({ run, result: recorded, next, done });
      if (this.pendingFinishes.length === 1) setImmediate(() => void this.commitFinishes());
    });
    if (next.status !== 'queued' && run.hasCallback) this.o.onCallbackDue?.();
  }

  /** Succeeded below 400, failed on a 4xx (a retry would get the same answer), else retried, then dead. */
  private next(run: ClaimedRun, r: QueueJobResult): RunNext {
    if (r.error?.code === 'function_not_found') return { status: 'dead' };
    if (r.outcome === 'ok' && r.status < 400) return { status: 'succeeded' };
    if (r.outcome === 'ok') return { status: 'failed' };
    if (run.attempt >= run.maxAttempts) return { status: 'dead' };
    // Count retries from the start of this drive, so a redriven invocation starts at the base delay again.
    const retries = this.o.settings(run.function)?.retries ?? 2;
    const retry = Math.max(1, run.attempt - (run.maxAttempts - retries - 1));
    return {
      status: 'queued',
      runAt: r.finishedAt + backoffDelay(retry, this.o.backoffMs, this.o.maxBackoffMs, this.o.random),
    };
  }
}
