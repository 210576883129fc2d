/**
 * The bytes of request bodies held in memory at once, over every request that reads one through
 * it: a body reserves its declared length before the first byte is read (or its bytes as they come
 * when no length is declared) and gives them back when its response closes. Without it, a hundred
 * clients declaring 6 MB and holding back the last byte made the server hold 600 MB.
 */
import type { ServerResponse } from 'node:http';
import { KumoError } from '../core/index.ts';

/** A shared byte budget. */
export class BodyBudget {
  /** Bytes of the budget. */
  readonly size: number;
  private used = 0;
  /** Told each time a reservation is refused. */
  private readonly onRefused: (wanted: number, used: number) => void;

  constructor(size: number, onRefused: (wanted: number, used: number) => void = () => {}) {
    this.size = size;
    this.onRefused = onRefused;
  }

  /** Bytes reserved now. */
  inUse(): number {
    return this.used;
  }

  /**
   * A holder of reservations (for readBody) for the request answered on `res`: everything it reserved is given
   * back once `res` closes (answered, or the connection gone).
   */
  holder(res: ServerResponse): (bytes: number) => void {
    let held = 0;
    res.once('close', () => {
      this.used -= held;
      held = 0;
    });
    return (bytes: number) => {
      if (res.closed) throw new KumoError('bad_request', 'the client closed the connection');
      if (this.used + bytes > this.size) {
        this.onRefused(bytes, this.used);
        throw new KumoError(
          'server_busy',
          `request bodies held in memory are at the server's budget of ${Math.round(this.size / 1024 / 1024)} MB (kumo up --body-budget): retry after 1 s`,
          { retryAfter: 1 },
        );
      }
      this.used += bytes;
      held += bytes;
    };
  }
}
