/**
 * The instances of one function version: warm reuse, per-instance concurrency, max instances,
 * scale to zero after idle, min instances kept warm, crash replacement, and a bounded wait queue.
 * With a concurrency above 1 an instance serves many requests at once, and the pool adds one
 * when every instance is saturated (saturation.ts), not when they are merely busy; it drains one
 * (no new requests, stopped once its own are done) when the others can take its load.
 */
import { KumoError, type FunctionSpec } from '../core/index.ts';
import type { ExitInfo, Instance } from '../drivers/index.ts';
import { SAMPLE_MS, SATURATED_SHARE, SPARE_FOR_ANOTHER, SaturationGauge } from './saturation.ts';

/** A function version the pool runs instances of. */
export interface PoolTarget {
  functionName: string;
  version: number;
  spec: FunctionSpec;
  /** The built artefact instances run from. */
  buildDir: string;
}

/** Starts one instance of `target` (the runtime launch plan + the driver, composed in server.ts). */
export type InstanceFactory = (target: PoolTarget, instanceId: string) => Promise<Instance>;

/** A request's hold on one instance slot. Exactly one of release/discard must be called. */
export interface Lease {
  readonly instance: Instance;
  /** True when this request waited for a new instance to start. */
  readonly cold: boolean;
  /** How long the request waited for a slot, in ms. */
  readonly waitedMs: number;
  /** The request is done and the instance is healthy. */
  release(): void;
  /** The instance must not serve again (protocol error, broken limit): kill it and replace it. */
  discard(): void;
  /**
   * The instance must not serve again, but the other requests it holds may finish (a timeout
   * with concurrency above 1: its code may still be running, its siblings are fine): it gets no
   * new request and is killed once its last one ends — at once when it holds no other.
   */
  retire(): void;
}

/** Counts for list/metrics. */
export interface PoolStats {
  total: number;
  busy: number;
  starting: number;
  waiting: number;
}

/** What a VersionPool needs from its owner. */
export interface VersionPoolDeps {
  factory: InstanceFactory;
  newInstanceId: () => string;
  now: () => number;
  /** Reports instance lifecycle events (start failures, exits) for the server log. */
  onEvent: (event: PoolEvent) => void;
  /** The host's idle CPU in cores' worth (host-cpu.ts); undefined: unknown, scale out regardless. */
  spareCores?: () => Promise<number | undefined>;
}

/** Lifecycle events worth a log line. */
export type PoolEvent =
  | { type: 'started'; target: PoolTarget; instanceId: string; ms: number }
  | { type: 'start_failed'; target: PoolTarget; error: unknown }
  | { type: 'exited'; target: PoolTarget; instanceId: string; info: ExitInfo; expected: boolean }
  | { type: 'idle_stop'; target: PoolTarget; instanceId: string };

interface Slot {
  instance: Instance;
  inflight: number;
  startedAt: number;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Set when the pool itself decided to stop or kill it. */
  leaving: boolean;
  /** What to do once its last request ends: drained (stop) or retired after a timeout (kill). */
  whenIdle: 'stop' | 'kill' | undefined;
  gauge: SaturationGauge;
}

interface Waiter {
  enqueuedAt: number;
  resolve: (lease: Lease) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

/** The pool of one function version. */
export class VersionPool {
  readonly target: PoolTarget;
  private readonly deps: VersionPoolDeps;
  private readonly slots: Set<Slot> = new Set();
  private readonly waiters: Waiter[] = [];
  private starting = 0;
  /** Samples the CPU of busy instances while a concurrency above 1 makes saturation matter. */
  private sampler: NodeJS.Timeout | undefined;
  private sampling = false;
  /** Since when no instance was saturated and nobody waited (scale-in waits for a calm pool). */
  private calmSince = 0;
  private retired = false;
  private closed = false;
  /** Called once the pool is retired and empty, so its owner can forget it. */
  onDrained: (() => void) | undefined;

  constructor(target: PoolTarget, deps: VersionPoolDeps) {
    this.target = target;
    this.deps = deps;
  }

  /** Waits for a slot on a warm instance, starting one when allowed. */
  acquire(signal?: AbortSignal): Promise<Lease> {
    if (this.closed) return Promise.reject(new KumoError('shutting_down', 'kumo is shutting down'));
    signal?.throwIfAborted();
    const slot = this.freeSlot();
    if (slot && this.waiters.length === 0) return Promise.resolve(this.lease(slot, this.deps.now(), false));
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        enqueuedAt: this.deps.now(),
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.dispatch();
      this.enforceQueueBound();
    });
  }

  /** Keeps `spec.instances.min` instances running. */
  prewarm(): void {
    if (this.retired || this.closed) return;
    const { min } = this.target.spec.instances;
    while (this.slots.size + this.starting < min) this.startOne();
  }

  /** Adds an already-started instance (the one deploy used to check the code loads). */
  adopt(instance: Instance): void {
    const slot = this.addSlot(instance, this.deps.now());
    this.dispatch();
    // An adopted instance that nobody uses must still scale to zero.
    if (slot.inflight === 0) this.scheduleIdle(slot);
  }

  /** Serves again after a retire (a rollback to a version whose pool is still draining). */
  revive(): void {
    if (!this.closed) this.retired = false;
  }

  /** No new requests: finish the queued and in-flight ones, then stop every instance. */
  retire(): void {
    this.retired = true;
    for (const slot of this.slots) if (slot.inflight === 0) this.stopSlot(slot);
    this.checkDrained();
  }

  /** Stops everything now: waiters get shutting_down, instances get SIGTERM then SIGKILL. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.sampler);
    this.sampler = undefined;
    this.retired = true;
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.reject(new KumoError('shutting_down', 'kumo is shutting down'));
    }
    await Promise.all([...this.slots].map((slot) => this.stopSlot(slot, graceMs)));
  }

  /** Counts for list and metrics. */
  stats(): PoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.inflight > 0) busy++;
    return {
      total: this.slots.size + this.starting,
      busy,
      starting: this.starting,
      waiting: this.waiters.length,
    };
  }

  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.leaving || s.inflight >= this.target.spec.concurrency) continue;
      // An unsaturated instance first; then least loaded; among equals the most recently used,
      // so spare instances can idle out.
      if (!best || better(s, best)) best = s;
    }
    return best;
  }

  private dispatch(): void {
    while (this.waiters.length) {
      const slot = this.freeSlot();
      if (!slot) break;
      const waiter = this.waiters.shift() as Waiter; // length checked above
      waiter.cleanup();
      waiter.resolve(
        this.lease(
          slot,
          waiter.enqueuedAt,
          slot.startedAt >= waiter.enqueuedAt && slot.lastUsed === slot.startedAt,
        ),
      );
    }
    if (this.closed) return;
    const { concurrency } = this.target.spec;
    const { max } = this.target.spec.instances;
    let uncovered = this.waiters.length - this.starting * concurrency;
    while (uncovered > 0 && this.slots.size + this.starting < max) {
      this.startOne();
      uncovered -= concurrency;
    }
  }

  /** Waiters beyond what running and starting instances will absorb, past the queue size, get 429. */
  private enforceQueueBound(): void {
    const { concurrency } = this.target.spec;
    const capacityComing = this.starting * concurrency;
    while (this.waiters.length - capacityComing > this.target.spec.queue) {
      const w = this.waiters.pop() as Waiter; // non-empty: the difference above is positive
      w.cleanup();
      w.reject(
        new KumoError(
          'over_capacity',
          `function '${this.target.functionName}' is at capacity (${this.target.spec.instances.max} instances × ${concurrency} concurrent, ${this.target.spec.queue} queued): retry later`,
        ),
      );
    }
  }

  private lease(slot: Slot, enqueuedAt: number, cold: boolean): Lease {
    slot.inflight++;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    const now = this.deps.now();
    slot.lastUsed = now;
    if (this.target.spec.concurrency > 1) this.startSampling();
    let done = false;
    const finish = (verdict: 'healthy' | 'kill' | 'retire') => {
      if (done) return;
      done = true;
      slot.inflight--;
      slot.lastUsed = this.deps.now();
      if (verdict === 'kill') {
        slot.leaving = true;
        slot.instance.kill();
      } else if (verdict === 'retire') {
        slot.leaving = true;
        slot.whenIdle = 'kill';
      }
      if (slot.inflight === 0) this.onIdle(slot);
      this.dispatch();
      this.checkDrained();
    };
    return {
      instance: slot.instance,
      cold,
      waitedMs: now - enqueuedAt,
      release: () => finish('healthy'),
      discard: () => finish('kill'),
      retire: () => finish('retire'),
    };
  }

  /** A slot's last request ended: a retired or drained one goes now, a serving one may idle out. */
  private onIdle(slot: Slot): void {
    slot.gauge.reset();
    if (slot.whenIdle === 'kill') slot.instance.kill();
    else if (slot.whenIdle === 'stop') void this.stopSlot(slot);
    else if (!slot.leaving) this.scheduleIdle(slot);
  }

  /** Starts the CPU sampler of busy instances, if it is not running. */
  private startSampling(): void {
    if (this.sampler || this.closed) return;
    this.calmSince = this.deps.now();
    this.sampler = setInterval(() => void this.sample(), SAMPLE_MS);
    this.sampler.unref();
  }

  /** One round of sampling: each serving instance's CPU, then the autoscaling decision. */
  private async sample(): Promise<void> {
    if (this.sampling) return; // the previous round's reads are still out
    const serving = [...this.slots].filter((s) => !s.leaving);
    if (this.closed || !serving.some((s) => s.inflight > 0)) {
      clearInterval(this.sampler);
      this.sampler = undefined;
      return;
    }
    this.sampling = true;
    try {
      const [spare, ...usages] = await Promise.all([
        this.deps.spareCores?.().catch(() => undefined),
        ...serving.map((s) => s.instance.cpuUsage().catch(() => undefined)),
      ]);
      const now = this.deps.now();
      serving.forEach((s, i) => s.gauge.update(usages[i], now));
      this.autoscale(serving, now, spare);
    } finally {
      this.sampling = false;
    }
  }

  /**
   * Adds an instance when every serving one is saturated (and none is starting) and the host has a
   * core's worth of CPU to spare for it (`spare`, when known: another instance on busy CPUs only
   * splits them); drains one when the pool has been calm for a while and the others could take
   * its load with room to spare.
   */
  private autoscale(serving: Slot[], now: number, spare: number | undefined): void {
    if (this.retired || this.closed) return;
    const { concurrency, instances } = this.target.spec;
    const saturated = serving.filter((s) => s.gauge.saturated).length;
    if (saturated > 0 || this.waiters.length > 0 || this.starting > 0) this.calmSince = now;
    if (saturated === serving.length && this.starting === 0 && this.slots.size < instances.max) {
      if (spare === undefined || spare >= SPARE_FOR_ANOTHER) this.startOne();
      return;
    }
    const fewer = serving.length - 1;
    if (fewer < Math.max(1, instances.min) || now - this.calmSince < scaleInAfter(instances.idle)) return;
    const load = serving.reduce((sum, s) => sum + s.gauge.load, 0);
    const inflight = serving.reduce((sum, s) => sum + s.inflight, 0);
    // Half of what the remaining instances could take, so that draining one does not saturate them.
    if (load > (fewer * SATURATED_SHARE) / 2 || inflight > (fewer * concurrency) / 2) return;
    const victim = serving.reduce((a, b) => (b.inflight < a.inflight ? b : a));
    this.drain(victim);
    this.calmSince = now;
  }

  /** Scale-in: no new requests for `slot`; it stops once the ones it holds are done. */
  private drain(slot: Slot): void {
    slot.leaving = true;
    slot.whenIdle = 'stop';
    this.deps.onEvent({ type: 'idle_stop', target: this.target, instanceId: slot.instance.id });
    if (slot.inflight === 0) void this.stopSlot(slot);
  }

  private scheduleIdle(slot: Slot): void {
    if (this.retired) {
      this.stopSlot(slot);
      return;
    }
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = undefined;
      if (slot.inflight > 0 || slot.leaving) return;
      if (this.slots.size + this.starting <= this.target.spec.instances.min) return;
      this.deps.onEvent({ type: 'idle_stop', target: this.target, instanceId: slot.instance.id });
      this.stopSlot(slot);
    }, this.target.spec.instances.idle);
    slot.idleTimer.unref();
  }

  private startOne(): void {
    this.starting++;
    const began = this.deps.now();
    const id = this.deps.newInstanceId();
    this.deps.factory(this.target, id).then(
      (instance) => {
        this.starting--;
        const now = this.deps.now();
        this.deps.onEvent({ type: 'started', target: this.target, instanceId: id, ms: now - began });
        const slot = this.addSlot(instance, now);
        if (this.closed) {
          this.stopSlot(slot);
          return;
        }
        this.dispatch();
        if (slot.inflight === 0) this.scheduleIdle(slot);
      },
      (error: unknown) => {
        this.starting--;
        this.deps.onEvent({ type: 'start_failed', target: this.target, error });
        // The waiters this start was for cannot be served by it: fail them rather than loop.
        const failed = this.waiters.splice(0, this.target.spec.concurrency);
        for (const w of failed) {
          w.cleanup();
          w.reject(error);
        }
        this.dispatch();
        this.checkDrained();
      },
    );
  }

  /** Makes a fresh instance a slot of this pool, and forgets it when it exits. */
  private addSlot(instance: Instance, now: number): Slot {
    const slot: Slot = {
      instance,
      inflight: 0,
      startedAt: now,
      lastUsed: now,
      idleTimer: undefined,
      leaving: false,
      whenIdle: undefined,
      gauge: new SaturationGauge(),
    };
    this.slots.add(slot);
    void slot.instance.exited.then((info) => {
      this.slots.delete(slot);
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      this.deps.onEvent({
        type: 'exited',
        target: this.target,
        instanceId: slot.instance.id,
        info,
        expected: slot.leaving,
      });
      if (!this.retired) this.prewarm();
      this.dispatch();
      this.checkDrained();
    });
    return slot;
  }

  private stopSlot(slot: Slot, graceMs = 5000): Promise<unknown> {
    slot.leaving = true;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    return slot.instance.stop(graceMs);
  }

  private checkDrained(): void {
    if (!this.retired) return;
    for (const slot of this.slots) if (slot.inflight === 0 && !slot.leaving) this.stopSlot(slot);
    if (this.slots.size === 0 && this.starting === 0 && this.waiters.length === 0) this.onDrained?.();
  }
}

/** Whether slot `a` should take the next request before slot `b`. */
function better(a: Slot, b: Slot): boolean {
  if (a.gauge.saturated !== b.gauge.saturated) return !a.gauge.saturated;
  if (a.inflight !== b.inflight) return a.inflight < b.inflight;
  return a.lastUsed > b.lastUsed;
}

/** How long a pool must stay calm before it drains an instance: its idle time, at most 30 s. */
function scaleInAfter(idleMs: number): number {
  return Math.min(idleMs, 30_000);
}
