/**
 * One leader among the nodes of a store, by a lease row (ClusterStore.tryLease): every node tries
 * to take or renew lease `name` every third of its length; the holder is the leader until it
 * fails to renew (it stops leading at once, before the lease could pass to another node), and a
 * dead leader's lease passes to another node within one lease length and one try interval. On
 * SQLite the only node always wins.
 *
 * A gain says whether it takes over from another leader: so when this node has waited for the
 * lease while another owner held it, or has led before (it lost the lease and wins it back).
 * A node that wins at its first try found no live leader to follow — the first node of a cluster
 * to start, or a lone node's restart — so whatever fell due meanwhile fell while no node was up.
 * The lease is held under the node id and a suffix of this process: a node restarted after a
 * crash (same id) finds the lease its dead predecessor left, waits for it like any other node,
 * and takes over, rather than renewing it at once as if it had led all along.
 */
import { randomBytes } from 'node:crypto';
import type { ServerLog } from '../core/index.ts';
import type { ClusterStore } from '../store/index.ts';

/** How this node became the leader. */
export interface LeaderGain {
  /** It waited while another owner held the lease, or led before: work of a previous leader may be left. */
  takeover: boolean;
}

/** What a leader lease needs. */
export interface LeaderLeaseOptions {
  store: ClusterStore;
  /** The lease's name (one leadership per name). */
  name: string;
  /** This node's id. */
  owner: string;
  /** How long the lease lasts without renewal (ms). */
  ttlMs: number;
  /** This node became the leader. */
  onGain: (gain: LeaderGain) => void | Promise<void>;
  /** This node stopped being the leader (lost the lease, could not renew it, or stops). */
  onLose: () => void;
  log: ServerLog;
  now?: () => number;
}

/** A node's part in one leadership. */
export class LeaderLease {
  private readonly o: Required<LeaderLeaseOptions>;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private stopped = true;
  private trying: Promise<void> | undefined;
  /** Another owner refused this node the lease at least once (a failed query does not count). */
  private refused = false;
  private hasLed = false;
  /** This process's name in the lease row. */
  private readonly holder: string;

  constructor(options: LeaderLeaseOptions) {
    this.o = { now: Date.now, ...options };
    this.holder = `${options.owner}/${randomBytes(4).toString('hex')}`;
  }

  /** Whether this node leads now. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts trying for the lease (the first try is awaited). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  /** Stops leading and gives the lease up, so the next leader need not wait for it to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.trying;
    if (!this.leading) return;
    this.leading = false;
    this.o.onLose();
    await this.o.store.releaseLease(this.o.name, this.holder).catch(() => {});
  }

  private attempt(): Promise<void> {
    this.trying = this.tryOnce().finally(() => {
      this.trying = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.attempt(), Math.max(100, Math.floor(this.o.ttlMs / 3)));
      this.timer.unref();
    });
    return this.trying;
  }

  private async tryOnce(): Promise<void> {
    let held: boolean;
    try {
      held = await this.o.store.tryLease(this.o.name, this.holder, this.o.now(), this.o.ttlMs);
      if (!held) this.refused = true;
    } catch (err) {
      // Unknown whether the lease was renewed: stop leading rather than risk two leaders.
      if (this.leading)
        this.o.log.warn('cluster: could not renew the leader lease', {
          lease: this.o.name,
          error: String(err),
        });
      held = false;
    }
    if (this.stopped) return;
    if (held && !this.leading) {
      this.leading = true;
      const takeover = this.refused || this.hasLed;
      this.hasLed = true;
      this.o.log.info('cluster: this node leads', { lease: this.o.name, node: this.o.owner, takeover });
      await this.o.onGain({ takeover });
    } else if (!held && this.leading) {
      this.leading = false;
      this.o.log.warn('cluster: this node no longer leads', { lease: this.o.name, node: this.o.owner });
      this.o.onLose();
    }
  }
}
