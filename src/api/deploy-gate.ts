/**
 * Deploys at once, bounded. A deploy holds an upload in memory, unpacks it, and runs a build that
 * takes a CPU and up to its memory limit: four at once took the server to 1.8 GB and stalled other
 * functions for seconds. Past the bound a deploy is refused at once (503 deploy_busy with
 * Retry-After) rather than queued, so a client holding a slot is never waited on by another.
 */
import type { ServerResponse } from 'node:http';
import { KumoError, LogThrottle, type ServerLog } from '../core/index.ts';

/** How long a refused deploy is told to wait (s). */
const RETRY_AFTER_S = 5;

/** The deploy slots of a server. */
export class DeployGate {
  private readonly max: number;
  private readonly throttle: LogThrottle;
  private running = 0;

  constructor(max: number, log: ServerLog) {
    this.max = max;
    this.throttle = new LogThrottle(log);
  }

  /** Takes a slot until `res` closes, or throws deploy_busy. */
  enter(res: ServerResponse): void {
    if (this.running >= this.max) {
      this.throttle.warn('deploy_busy', 'deploy refused with 503: as many deploys as allowed are running', {
        running: this.running,
      });
      throw new KumoError(
        'deploy_busy',
        `${this.running} deploys are running, the most this server runs at once (kumo up --deploy-concurrency): retry after ${RETRY_AFTER_S} s`,
        { retryAfter: RETRY_AFTER_S },
      );
    }
    this.running++;
    res.once('close', () => this.running--);
  }
}
