/**
 * Cron triggers. Each schedule has one timer set to its next run (computed by croner in its time
 * zone); at each tick the scheduler enqueues an invocation in the durable queue (trigger `cron`)
 * unless the overlap policy says otherwise: `skip` drops the tick while a previous run is queued
 * or running, `allow` enqueues regardless, `queue` enqueues with the schedule as serial key so the
 * worker starts it only after the previous one ends. Each tick is recorded, so after downtime the
 * missed ticks are known and handled by the schedule's catch-up policy (`none` or `one`).
 *
 * Among several nodes only the leader runs the scheduler (cluster/leader.ts). A tick's queued
 * invocation carries its (schedule, due time) key, and the store keeps one invocation per key: the
 * insert is the claim, so a tick is either queued once or not claimed at all, even when two nodes
 * both believe they lead for a moment. The tick is recorded (`markTick`) only after its insert
 * committed, so a leader that dies in between leaves a due time that looks unrun. A leader that
 * takes over from another (start's `takeover`) runs again the due times of the last
 * `takeoverWindowMs` after the last recorded tick: those the old leader had queued are refused by
 * their key, those it had not are queued now, late but once. A start that takes over from nobody
 * (a lone node's restart, on SQLite or PostgreSQL, or the first node of a cluster to start) follows
 * each catch-up policy: those due times fell while kumo was down.
 */
import { randomBytes } from 'node:crypto';
import {
  HEADERS,
  KumoError,
  nextRunTime,
  nextRunTimes,
  type ScheduleRecord,
  type ScheduleSpec,
  type ServerLog,
} from '../core/index.ts';
import type { EnqueueInput } from '../queue/index.ts';
import type { QueueStore, ScheduleStore } from '../store/index.ts';

/** What the scheduler needs. */
export interface SchedulerOptions {
  store: ScheduleStore;
  /** How many runs of a schedule are queued or running (overlap: skip). */
  queue: Pick<QueueStore, 'activeForSchedule'>;
  /**
   * The queue's enqueueTick: stores the tick's invocation under `tickKey` unless one with that
   * key exists; resolves with its id once committed, or undefined when the key was taken.
   */
  enqueueTick: (input: EnqueueInput, tickKey: string) => Promise<string | undefined>;
  /** The kumo.yaml schedules of a function's active version; undefined when the function does not exist. */
  manifestSchedules: (fn: string) => ScheduleSpec[] | undefined;
  log: ServerLog;
  now?: () => number;
  onTick?: (fn: string, result: 'enqueued' | 'skipped') => void;
  /** A schedule of `fn` was added or removed by API (other nodes of the store are told). */
  onChanged?: (fn: string) => void;
  /**
   * At a start that takes over from another leader, due times this recent (after the last
   * recorded tick) are each run again, whatever the catch-up policy; one already queued is
   * refused by its tick key. Set where another node may have led before (0: never).
   */
  takeoverWindowMs?: number;
}

/** How the scheduler starts. */
export interface SchedulerStart {
  /**
   * It takes over from another leader (which may have died mid-tick): the due times of the
   * takeover window run one by one. Otherwise missed ticks follow each catch-up policy.
   */
  takeover: boolean;
}

/** A schedule with its next run times. */
export interface ScheduleView extends ScheduleRecord {
  next: number[];
}

/** setTimeout's largest delay; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs the schedules. */
export class Scheduler {
  private readonly o: Required<Omit<SchedulerOptions, 'onTick' | 'onChanged'>> &
    Pick<SchedulerOptions, 'onTick' | 'onChanged'>;
  private readonly timers: Map<string, NodeJS.Timeout> = new Map();
  /** Bumped at each arm and disarm of a schedule: a timer that fired before a change stands down. */
  private readonly generations: Map<string, number> = new Map();
  /** Start and function changes, one after another (each reads schedules, then arms them). */
  private changes: Promise<void> = Promise.resolve();
  private running = false;

  constructor(options: SchedulerOptions) {
    this.o = { now: Date.now, takeoverWindowMs: 0, ...options };
  }

  /**
   * Follows kumo.yaml for `functions`, handles missed ticks (a takeover's recent ones one by one,
   * the others by each schedule's catch-up policy), arms every timer.
   */
  start(functions: readonly string[], how: SchedulerStart = { takeover: false }): Promise<void> {
    this.running = true;
    return this.serially(async () => {
      for (const fn of functions) await this.syncManifest(fn);
      const now = this.o.now();
      for (const s of await this.o.store.listSchedules()) {
        await this.catchUp(s, now, how.takeover);
        this.arm(s, now);
      }
    });
  }

  /** Stops every timer. */
  stop(): void {
    this.running = false;
    for (const id of [...this.timers.keys()]) this.disarm(id);
  }

  /** After a deploy, rollback or delete: the function's kumo.yaml schedules replace its previous ones. */
  functionChanged(fn: string): Promise<void> {
    return this.serially(async () => {
      const before = (await this.o.store.listSchedules(fn)).map((s) => s.id);
      await this.syncManifest(fn);
      const after = await this.o.store.listSchedules(fn);
      for (const id of before) if (!after.some((s) => s.id === id)) this.disarm(id);
      for (const s of after) this.arm(s, this.o.now());
    });
  }

  /** Adds a schedule by API (`kumo schedule`). */
  async add(fn: string, spec: ScheduleSpec): Promise<ScheduleView> {
    if (this.o.manifestSchedules(fn) === undefined)
      throw new KumoError('function_not_found', `no function named '${fn}' is deployed (see kumo list)`);
    const now = this.o.now();
    const record = toRecord(fn, `${fn}-${randomBytes(3).toString('hex')}`, 'api', spec, now);
    await this.o.store.putSchedule(record);
    this.arm(record, now);
    this.o.onChanged?.(fn);
    return this.view(record, now);
  }

  /** Removes one schedule, or every `kumo schedule` one of the function; returns the removed ids. */
  async remove(fn: string, id?: string): Promise<string[]> {
    const schedules = await this.o.store.listSchedules(fn);
    if (id !== undefined) {
      const s = schedules.find((x) => x.id === id);
      if (!s)
        throw new KumoError(
          'schedule_not_found',
          `function '${fn}' has no schedule ${id} (see kumo schedules ${fn})`,
        );
      if (s.source === 'manifest') {
        throw new KumoError(
          'conflict',
          `schedule ${id} comes from ${fn}'s kumo.yaml: remove it there and deploy again`,
        );
      }
      await this.o.store.deleteSchedule(id);
      this.disarm(id);
      this.o.onChanged?.(fn);
      return [id];
    }
    const removed = schedules.filter((s) => s.source === 'api').map((s) => s.id);
    for (const r of removed) {
      await this.o.store.deleteSchedule(r);
      this.disarm(r);
    }
    if (removed.length) this.o.onChanged?.(fn);
    return removed;
  }

  /** Schedules (of one function, or all) with their next `count` run times. */
  async list(fn?: string, count = 3): Promise<ScheduleView[]> {
    const now = this.o.now();
    return (await this.o.store.listSchedules(fn)).map((s) => this.view(s, now, count));
  }

  private view(s: ScheduleRecord, now: number, count = 3): ScheduleView {
    return { ...s, next: nextRunTimes(s.cron, s.tz ?? undefined, now, count) };
  }

  /** Runs `step` after the start and function changes before it; a failure is logged, not passed on. */
  private serially(step: () => Promise<void>): Promise<void> {
    this.changes = this.changes
      .then(step)
      .catch((err: unknown) =>
        this.o.log.error('schedules: following a change failed', { error: String(err) }),
      );
    return this.changes;
  }

  private async syncManifest(fn: string): Promise<void> {
    const specs = this.o.manifestSchedules(fn);
    if (specs === undefined) {
      await this.o.store.deleteFunctionSchedules(fn);
      return;
    }
    const now = this.o.now();
    await this.o.store.replaceManifestSchedules(
      fn,
      specs.map((spec, i) => toRecord(fn, `${fn}-m${i}`, 'manifest', spec, now)),
    );
  }

  private async catchUp(s: ScheduleRecord, now: number, takeover: boolean): Promise<void> {
    const since = s.lastTickAt ?? s.createdAt;
    if (takeover && this.o.takeoverWindowMs > 0) {
      // A leader change: the recent due times are run one by one; one queued before is refused by its key.
      const from = Math.max(since, now - this.o.takeoverWindowMs);
      const due = nextRunTimes(s.cron, s.tz ?? undefined, from, 1000).filter((t) => t <= now);
      for (const t of due) await this.tick(s, t);
      if (due.length || since >= now - this.o.takeoverWindowMs) return;
    }
    const missed = nextRunTime(s.cron, s.tz ?? undefined, since);
    if (missed === undefined || missed >= now) return;
    if (s.catchup === 'one') {
      this.o.log.info('schedule missed runs while kumo was down: running once now (catchup: one)', {
        schedule: s.id,
        function: s.function,
      });
      await this.tick(s, now);
    } else {
      this.o.log.info('schedule missed runs while kumo was down: skipped (catchup: none)', {
        schedule: s.id,
        function: s.function,
      });
      await this.o.store.markTick(s.id, now);
    }
  }

  /** Sets the timer of schedule `s`'s next run after `from` (replacing any it had). */
  private arm(s: ScheduleRecord, from: number): void {
    this.disarm(s.id);
    if (!this.running) return;
    const at = nextRunTime(s.cron, s.tz ?? undefined, from);
    if (at === undefined) return;
    const generation = this.generations.get(s.id) ?? 0;
    const wait = Math.max(0, at - this.o.now());
    const timer = setTimeout(
      () => {
        this.timers.delete(s.id);
        // A long wait is re-armed in steps; a timer may also fire a hair early.
        if (this.o.now() < at - 2) return this.arm(s, from);
        void this.fire(s.id, at, generation);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(s.id, timer);
  }

  /** A timer's run: the schedule as stored now, ticked at `at`, then armed for its next run. */
  private async fire(id: string, at: number, generation: number): Promise<void> {
    try {
      const current = await this.o.store.getSchedule(id);
      // Removed, stopped, or armed again meanwhile (a deploy): the newer timer owns the schedule.
      if (!current || !this.running || this.generations.get(id) !== generation) return;
      await this.tick(current, at);
      if (this.generations.get(id) === generation) this.arm(current, at);
    } catch (err) {
      this.o.log.error('schedule tick failed', { schedule: id, error: String(err) });
    }
  }

  private disarm(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
    this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
  }

  /**
   * Runs schedule `s`'s tick due at `at`: queues its invocation under the tick's key (unless
   * overlap: skip finds a run still going), then records the tick. A failed insert is logged and
   * leaves the tick unrecorded and unclaimed.
   */
  private async tick(s: ScheduleRecord, at: number): Promise<void> {
    try {
      if (s.overlap === 'skip' && (await this.o.queue.activeForSchedule(s.id)) > 0) {
        this.o.log.debug('schedule tick skipped: the previous run is still going (overlap: skip)', {
          schedule: s.id,
        });
        await this.o.store.markTick(s.id, at);
        this.o.onTick?.(s.function, 'skipped');
        return;
      }
      const id = await this.o.enqueueTick(tickInput(s, at), tickKey(s.id, at)).catch((err: unknown) => {
        throw new Error(`could not be queued: ${String(err)}`);
      });
      // Only now: a leader that dies before this line leaves the due time to the next one's takeover.
      await this.o.store.markTick(s.id, at);
      if (id === undefined) {
        this.o.log.debug('schedule tick already queued (by another node, or before a leader change)', {
          schedule: s.id,
          at: new Date(at).toISOString(),
        });
        return;
      }
      this.o.onTick?.(s.function, 'enqueued');
    } catch (err) {
      this.o.log.error('schedule tick failed', { schedule: s.id, error: String(err) });
    }
  }
}

/** The key of schedule `scheduleId`'s tick due at `dueAt` (epoch ms): one invocation per key. */
function tickKey(scheduleId: string, dueAt: number): string {
  return `${scheduleId}@${dueAt}`;
}

/** The queued invocation of schedule `s`'s tick due at `at`. */
function tickInput(s: ScheduleRecord, at: number): EnqueueInput {
  return {
    function: s.function,
    trigger: 'cron',
    request: {
      method: 'POST',
      path: '/',
      headers: {
        ...(s.data === null ? {} : { 'content-type': 'application/json' }),
        [HEADERS.scheduleId]: s.id,
        [HEADERS.scheduledAt]: new Date(at).toISOString(),
      },
    },
    body: s.data === null ? Buffer.alloc(0) : Buffer.from(s.data),
    scheduleId: s.id,
    serialKey: s.overlap === 'queue' ? s.id : null,
  };
}

/** The stored form of a schedule. */
function toRecord(
  fn: string,
  id: string,
  source: ScheduleRecord['source'],
  spec: ScheduleSpec,
  now: number,
): ScheduleRecord {
  return {
    id,
    function: fn,
    source,
    cron: spec.cron,
    tz: spec.tz ?? null,
    data: spec.data === undefined ? null : JSON.stringify(spec.data),
    overlap: spec.overlap,
    catchup: spec.catchup,
    createdAt: now,
    lastTickAt: null,
  };
}
