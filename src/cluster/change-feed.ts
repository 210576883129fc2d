/**
 * Following the other nodes of one store: every deploy, rollback, delete or schedule change is
 * announced in the store's change feed (a row, and a NOTIFY on PostgreSQL); every node reads the
 * feed after the last change it saw, when woken by a notification and at least every `pollMs`
 * (a lost notification, or a dropped listening connection, costs at most that), and hands each
 * changed function to `apply` once. A node's own announcements are skipped: it applied them already.
 */
import type { ServerLog } from '../core/index.ts';
import type { ClusterStore } from '../store/index.ts';

/** What the feed needs. */
export interface ChangeFeedOptions {
  store: ClusterStore;
  /** Reads function `fn` again (its versions, schedules) and makes this node serve what it now says. */
  apply: (fn: string) => Promise<void>;
  /** Called after each look at the feed (the unavailable builds are tried again there). */
  afterPoll?: () => Promise<void>;
  log: ServerLog;
  /** Longest time between two looks at the feed. */
  pollMs?: number;
  /** How long changes are kept in the store. */
  keepMs?: number;
  now?: () => number;
}

/** Changes read per look at the feed. */
const BATCH = 500;

/** The change feed of one node. */
export class ChangeFeed {
  private readonly o: Required<Omit<ChangeFeedOptions, 'afterPoll'>> & Pick<ChangeFeedOptions, 'afterPoll'>;
  private seen = 0;
  private readonly mine: Set<number> = new Set();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  private failing = false;

  constructor(options: ChangeFeedOptions) {
    this.o = { pollMs: 500, keepMs: 3_600_000, now: Date.now, ...options };
  }

  /** Starts following after change `since` (the latest when the node read its state at start). */
  async start(since: number): Promise<void> {
    this.seen = since;
    this.stopped = false;
    this.unlisten = await this.o.store.listen(() => this.wake());
    this.arm();
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.polling;
  }

  /** Tells the other nodes that function `fn` changed (after this node's write committed). */
  async announce(fn: string): Promise<void> {
    const seq = await this.o.store.announce(fn, this.o.now());
    this.mine.add(seq);
  }

  /** Reads the feed now. */
  wake(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      } else this.arm();
    });
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.o.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      for (;;) {
        const changes = await this.o.store.changesSince(this.seen, BATCH);
        const fns = new Set<string>();
        for (const c of changes) {
          this.seen = Math.max(this.seen, c.seq);
          if (this.mine.delete(c.seq)) continue;
          fns.add(c.function);
        }
        for (const fn of fns) {
          await this.o
            .apply(fn)
            .catch((err: unknown) =>
              this.o.log.error('cluster: following a change failed', { function: fn, error: String(err) }),
            );
        }
        if (changes.length < BATCH) break;
      }
      await this.o.afterPoll?.();
      await this.prune();
      if (this.failing) this.o.log.info('cluster: the change feed is readable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.log.warn('cluster: reading the change feed failed', { error: String(err) });
      this.failing = true;
    }
  }

  private async prune(): Promise<void> {
    const now = this.o.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    await this.o.store.pruneChanges(now - this.o.keepMs);
  }
}
