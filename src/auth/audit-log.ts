/**
 * The audit log of control-plane requests: one entry per request, written when the response ends
 * (so the result is known), naming the key by id and name, never the key. Bounded by count.
 */
import type { AuditEntry, AuditQuery } from '../core/index.ts';
import type { AuditStore } from '../store/index.ts';

/** Options of the audit log. */
export interface AuditLogOptions {
  store: AuditStore;
  /** Newest entries kept (older ones pruned). */
  keep?: number;
}

/** Entries between two prunes: a prune is one DELETE, cheap but not free. */
const PRUNE_EVERY = 1000;

/** The audit log. */
export class AuditLog {
  private readonly store: AuditStore;
  private readonly keep: number;
  private sincePrune = 0;
  private closed = false;

  constructor(options: AuditLogOptions) {
    this.store = options.store;
    this.keep = options.keep ?? 100_000;
  }

  /** Records one request. */
  async record(entry: AuditEntry): Promise<void> {
    // A response cut by shutdown may end after the database closed: nothing is left to write to.
    if (this.closed) return;
    await this.store.appendAudit(entry);
    if (++this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      await this.store.pruneAudit(this.keep);
    }
  }

  /** Stops recording (the server is closing its database). */
  close(): void {
    this.closed = true;
  }

  /** Entries matching `query`, newest first. */
  query(query: AuditQuery): Promise<AuditEntry[]> {
    return this.store.queryAudit(query);
  }
}
