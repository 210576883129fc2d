/**
 * Callback delivery: when an async invocation with X-Callback-Url ends, kumo POSTs
 * `{ "id", "status", "output", "task-token" }` to the URL until it answers 2xx, retrying with
 * exponential backoff up to a limit. The pending state lives in the store, so deliveries resume
 * after a restart (a receiver may see a result twice; the id lets it deduplicate).
 */
import http from 'node:http';
import https from 'node:https';
import type { InvocationRecord, ServerLog } from '../core/index.ts';
import type { InvocationStore } from '../store/index.ts';
import { backoffDelay } from './backoff.ts';
import type { CallbackPolicy } from './callback-policy.ts';

/** What the dispatcher needs. */
export interface CallbackDispatcherOptions {
  store: InvocationStore;
  policy: CallbackPolicy;
  log: ServerLog;
  /** Delivery attempts before giving up. */
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  /** Deliveries at once. */
  concurrency?: number;
  now?: () => number;
  onResult?: (result: 'delivered' | 'retry' | 'failed') => void;
}

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
  private readonly inflight: Set<Promise<void>> = new Set();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = true;

  constructor(options: CallbackDispatcherOptions) {
    this.o = {
      maxAttempts: 8,
      backoffMs: 1000,
      maxBackoffMs: 5 * 60_000,
      timeoutMs: 10_000,
      concurrency: 8,
      now: Date.now,
      ...options,
    };
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
      this.pump();
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

  private pump(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    try {
      const free = this.o.concurrency - this.delivering.size;
      if (free > 0) {
        for (const job of this.o.store.dueCallbacks(this.o.now(), free + this.delivering.size)) {
          if (this.delivering.has(job.id) || this.delivering.size >= this.o.concurrency) continue;
          this.delivering.add(job.id);
          const p = this.deliver(job.id, job.url, job.attempts).finally(() => {
            this.delivering.delete(job.id);
            this.inflight.delete(p);
            this.wake();
          });
          this.inflight.add(p);
        }
      }
    } catch (err) {
      this.o.log.error('callbacks: reading due deliveries failed', { error: String(err) });
    }
    this.timer = setTimeout(() => this.pump(), 500);
    this.timer.unref();
  }

  private async deliver(id: string, url: string, attempts: number): Promise<void> {
    const record = this.o.store.get(id);
    if (!record) return;
    let problem: string | undefined;
    try {
      const status = await this.post(url, callbackBody(record));
      if (status >= 200 && status < 300) {
        if (!this.stopped) this.o.store.updateCallback(id, 'delivered', attempts + 1, null, null);
        this.o.onResult?.('delivered');
        return;
      }
      problem = `answered ${status}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (this.stopped) return;
    const tries = attempts + 1;
    if (tries >= this.o.maxAttempts) {
      this.o.store.updateCallback(id, 'failed', tries, null, problem);
      this.o.log.warn('callback given up', { id, url, attempts: tries, error: problem });
      this.o.onResult?.('failed');
      return;
    }
    const nextAt = this.o.now() + backoffDelay(tries, this.o.backoffMs, this.o.maxBackoffMs);
    this.o.store.updateCallback(id, 'pending', tries, nextAt, problem);
    this.o.onResult?.('retry');
  }

  private post(raw: string, body: CallbackBody): Promise<number> {
    const url = this.o.policy.checkUrl(raw);
    const data = Buffer.from(JSON.stringify(body));
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
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
          timeout: this.o.timeoutMs,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs}ms`)));
      req.on('error', reject);
      req.end(data);
    });
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
