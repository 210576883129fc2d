/**
 * Whether the store answers, as /status and `kumo doctor` show it and as the async intake asks
 * before accepting (an accepted invocation needs a durable write: while the store is down the
 * intake answers 503 store_unavailable at once instead of holding the client). A shared store is
 * pinged every `everyMs`; two failed pings in a row, or a failed enqueue, mark it down until a
 * ping succeeds.
 * The SQLite file is always up.
 */
import type { ServerLog } from '../core/index.ts';
import type { ClusterStore } from '../store/index.ts';

/** Failed pings in a row that mark the store down (a failed write marks it down at once). */
const PING_MISSES = 2;

/** What the store's health looks like from outside. */
export interface StoreHealthView {
  healthy: boolean;
  /** Since when (epoch ms) it has been in this state. */
  since: number;
  /** The last failure's message, while unhealthy. */
  error: string | null;
}

/** The health of this node's link to the store. */
export class StoreHealth {
  private readonly store: ClusterStore;
  private readonly log: ServerLog;
  private readonly everyMs: number;
  private timer: NodeJS.Timeout | undefined;
  private state: StoreHealthView = { healthy: true, since: Date.now(), error: null };
  private pinging = false;
  /** Pings failed in a row: one slow answer on a busy machine is not an outage. */
  private misses = 0;

  constructor(store: ClusterStore, log: ServerLog, everyMs = 1000) {
    this.store = store;
    this.log = log;
    this.everyMs = everyMs;
  }

  /** Whether the store answered the last ping (and no write failed since). */
  get healthy(): boolean {
    return this.state.healthy;
  }

  /** The state, for /status. */
  view(): StoreHealthView {
    return { ...this.state };
  }

  /** Starts pinging (a shared store only). */
  start(): void {
    if (!this.store.shared) return;
    this.timer = setInterval(() => void this.ping(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A write to the store failed: it is down until a ping succeeds. */
  failed(err: unknown): void {
    if (!this.store.shared) return;
    this.set(false, String(err));
  }

  private async ping(): Promise<void> {
    if (this.pinging) return;
    this.pinging = true;
    try {
      await this.store.ping(Math.max(1000, this.everyMs * 3));
      this.misses = 0;
      this.set(true, null);
    } catch (err) {
      if (++this.misses >= PING_MISSES) this.set(false, String(err));
    } finally {
      this.pinging = false;
    }
  }

  private set(healthy: boolean, error: string | null): void {
    if (healthy === this.state.healthy) {
      if (!healthy) this.state.error = error;
      return;
    }
    const since = Date.now();
    if (healthy) this.log.info('store: reachable again', { downMs: since - this.state.since });
    else this.log.error('store: unreachable; async intake answers 503 until it is back', { error });
    this.state = { healthy, since, error };
  }
}
