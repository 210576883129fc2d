/**
 * Callback delivery: when an async invocation with X-Callback-Url ends, kumo POSTs
 * `{ "id", "status", "output", "task-token" }` to the URL until it answers 2xx, retrying with
 * exponential backoff up to a limit. The pending state lives in the store, so deliveries resume
 * after a restart (a receiver may see a result twice; the id lets it deduplicate).
 *
 * A slow or hostile receiver delays only its own callbacks: an attempt has one deadline for the
 * whole exchange (DNS, connect, headers and body — a receiver dripping a byte at a time is cut off
 * at it), and at most `perDestination` deliveries go to one host:port at once, so the other slots
 * stay free for other receivers. Every attempt is recorded in the invocation's history.
 */
import http from 'node:http';
import https from 'node:https';
import {
  callbackDestination,
  KumoError,
  LogThrottle,
  type CallbackDelivery,
  type InvocationRecord,
  type ServerLog,
} from '../core/index.ts';
import type { InvocationStore, QueueStore } from '../store/index.ts';
import { backoffDelay } from './backoff.ts';
import type { CallbackPolicy } from './callback-policy.ts';

/** What the dispatcher needs. */
export interface CallbackDispatcherOptions {
  /** Reads the invocation whose result a callback carries. */
  invocations: InvocationStore;
  /** Which callbacks are due, and what became of each attempt. */
  queue: QueueStore;
  policy: CallbackPolicy;
  log: ServerLog;
  /** Delivery attempts before giving up. */
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Deadline of one attempt, from DNS to the last byte of the answer. */
  timeoutMs?: number;
  /** Deliveries at once. */
  concurrency?: number;
  /** Deliveries at once to one destination (host:port). */
  perDestination?: number;
  now?: () => number;
  onResult?: (result: 'delivered' | 'retry' | 'failed') => void;
}

/** A claimed delivery's margin over its deadline before another node may take it. */
const CLAIM_SLACK_MS = 5000;

/** The JSON POSTed to a callback URL. */
export interface CallbackBody {
  id: string;
  status: string;
  output: unknown;
  'task-token': string | null;
}

/** Delivers due callbacks. */
export class CallbackDispatcher {
  private readonly o: Required<Omit<CallbackDispatcherOptions, 'onResult'>> &
    Pick<CallbackDispatcherOptions, 'onResult'>;
  private readonly delivering: Set<string> = new Set();
  /** Deliveries in flight per destination. */
  private readonly busy: Map<string, number> = new Map();
  private readonly throttled: LogThrottle;
  private readonly inflight: Set<Promise<void>> = new Set();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  /** A pump is reading due deliveries: another waits for it, so no delivery starts twice. */
  private pumping = false;
  private pumpAgain = false;
  private stopped = true;

  constructor(options: CallbackDispatcherOptions) {
    this.o = {
      maxAttempts: 8,
      backoffMs: 1000,
      maxBackoffMs: 5 * 60_000,
      timeoutMs: 10_000,
      concurrency: 16,
      perDestination: 2,
      now: Date.now,
      ...options,
    };
    this.throttled = new LogThrottle(this.o.log, { now: this.o.now });
  }

  /** Starts delivering (pending deliveries from before a restart included). */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Looks for due deliveries soon. */
  wake(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  /** Stops; deliveries in flight get `graceMs` to finish. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
  }

  /** Starts the due deliveries there is room for; one pump at a time. Never rejects. */
  private async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      const free = this.o.concurrency - this.delivering.size;
      if (free > 0) {
        const full = [...this.busy].filter(([, n]) => n >= this.o.perDestination).map(([d]) => d);
        const now = this.o.now();
        // Claimed: no other node (or later pump) takes them before this delivery could have ended.
        const due = await this.o.queue.dueCallbacks(now, free, full, now + this.o.timeoutMs + CLAIM_SLACK_MS);
        for (const job of due) {
          const destination = callbackDestination(job.url);
          const busy = this.busy.get(destination) ?? 0;
          if (this.stopped || this.delivering.has(job.id) || busy >= this.o.perDestination) {
            // Not started here: due again at once rather than after the claim.
            await this.o.queue.updateCallback(job.id, 'pending', job.attempts, now, null);
            continue;
          }
          this.busy.set(destination, busy + 1);
          this.delivering.add(job.id);
          const p = this.deliver(job.id, job.url, job.attempts).finally(() => {
            this.delivering.delete(job.id);
            const left = (this.busy.get(destination) ?? 1) - 1;
            if (left > 0) this.busy.set(destination, left);
            else this.busy.delete(destination);
            this.inflight.delete(p);
            this.wake();
          });
          this.inflight.add(p);
        }
      }
    } catch (err) {
      this.o.log.error('callbacks: reading due deliveries failed', { error: String(err) });
    } finally {
      this.pumping = false;
    }
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), 500);
    this.timer.unref();
    if (this.pumpAgain) {
      this.pumpAgain = false;
      this.wake();
    }
  }

  private async deliver(id: string, url: string, attempts: number): Promise<void> {
    const record = await this.o.invocations.get(id);
    if (!record) return;
    const tries = attempts + 1;
    const delivery = await this.attempt(url, callbackBody(record), tries);
    // Stopping: the store may close under us; the delivery is simply due again after the restart.
    if (this.stopped) return;
    await this.o.queue.recordDelivery(id, delivery);
    if (delivery.outcome === 'delivered') {
      await this.o.queue.updateCallback(id, 'delivered', tries, null, null);
      this.o.onResult?.('delivered');
      return;
    }
    const problem = delivery.error ?? delivery.outcome;
    const destination = callbackDestination(url);
    if (delivery.outcome === 'timeout')
      this.throttled.warn(`timeout:${destination}`, 'callback delivery cut at its deadline', {
        id,
        destination,
        ms: this.o.timeoutMs,
      });
    // A refusal of the policy stays a refusal: retrying would only knock on the same door.
    if (tries >= this.o.maxAttempts || delivery.outcome === 'refused') {
      await this.o.queue.updateCallback(id, 'failed', tries, null, problem);
      this.throttled.warn(`failed:${destination}`, 'callback given up', {
        id,
        destination,
        attempts: tries,
        error: problem,
      });
      this.o.onResult?.('failed');
      return;
    }
    const nextAt = this.o.now() + backoffDelay(tries, this.o.backoffMs, this.o.maxBackoffMs);
    await this.o.queue.updateCallback(id, 'pending', tries, nextAt, problem);
    this.o.onResult?.('retry');
  }

  /** One delivery attempt, classified; never throws. */
  private async attempt(url: string, body: CallbackBody, attempt: number): Promise<CallbackDelivery> {
    const startedAt = this.o.now();
    const started = performance.now();
    const done = (outcome: CallbackDelivery['outcome'], statusCode: number | null, error: string | null) => ({
      attempt,
      startedAt,
      durationMs: Math.round(performance.now() - started),
      outcome,
      statusCode,
      error,
    });
    try {
      const status = await this.post(url, body);
      return status >= 200 && status < 300
        ? done('delivered', status, null)
        : done('answered', status, `answered ${status}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof DeliveryDeadline) return done('timeout', null, message);
      if (err instanceof KumoError && err.code === 'callback_not_allowed')
        return done('refused', null, message);
      return done('error', null, message);
    }
  }

  private post(raw: string, body: CallbackBody): Promise<number> {
    const url = this.o.policy.checkUrl(raw);
    const data = Buffer.from(JSON.stringify(body));
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(data.length),
            'user-agent': 'kumo-callback',
          },
          lookup: this.o.policy.lookup,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      // One deadline for the whole attempt: a socket timeout would restart at every dripped byte.
      const deadline = setTimeout(
        () => req.destroy(new DeliveryDeadline(this.o.timeoutMs)),
        this.o.timeoutMs,
      );
      req.on('close', () => clearTimeout(deadline));
      req.on('error', reject);
      req.end(data);
    });
  }
}

/** An attempt that did not finish within the delivery deadline. */
class DeliveryDeadline extends Error {
  constructor(ms: number) {
    super(`the receiver did not take the callback within ${ms}ms (--callback-timeout)`);
  }
}

/** The callback body of a finished invocation: its output is the response body (JSON when it is JSON). */
export function callbackBody(r: InvocationRecord): CallbackBody {
  return { id: r.id, status: r.status, output: outputOf(r), 'task-token': r.callback?.taskToken ?? null };
}

/** The response body as a value: parsed JSON when it is JSON, else text, null when empty. */
export function outputOf(r: InvocationRecord): unknown {
  const body = r.responseBody;
  if (!body || body.length === 0) return null;
  const text = body.toString('utf8');
  const type = r.responseHeaders?.['content-type'] ?? '';
  if (/json/i.test(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
