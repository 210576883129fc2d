/**
 * Invocation records: one row per invocation whatever its trigger (a live HTTP request, an async
 * request from the durable queue, a cron tick), with one attempt record per run of it.
 */

/** What started an invocation. */
export const TRIGGERS = ['http', 'async', 'cron'] as const;
/** What started an invocation. */
export type Trigger = (typeof TRIGGERS)[number];

/**
 * Where an invocation is. `queued` and `running` exist only for queued (async and cron) ones;
 * `dead` is a queued invocation whose retries ran out (or whose function is gone): redrive it.
 */
export const INVOCATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'dead'] as const;
/** Where an invocation is. */
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** The statuses an invocation ends in. */
export const TERMINAL_STATUSES: readonly InvocationStatus[] = ['succeeded', 'failed', 'dead'];

/**
 * How one run ended: the function answered (`ok` below 500, `error` at 500 and above), ran past its
 * deadline, crashed, went over memory, was refused before it ran (`rejected`), or was cut short by
 * a server crash (`interrupted`, recorded when the queue recovers it).
 */
export type Outcome = 'ok' | 'error' | 'timeout' | 'crash' | 'memory_limit' | 'rejected' | 'interrupted';

/** The request as recorded (headers with secrets redacted). */
export interface RecordedRequest {
  method: string;
  /** Path and query as the function sees them. */
  path: string;
  headers: Record<string, string>;
}

/** A callback URL to POST the result to, and how its delivery goes. */
export interface CallbackState {
  url: string;
  taskToken: string | null;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** Next delivery attempt not before (epoch ms). */
  nextAt: number | null;
  lastError: string | null;
}

/**
 * How one callback delivery attempt ended: the receiver took it (2xx), answered something else,
 * did not finish within the delivery deadline, was refused by the callback policy (after DNS),
 * or could not be reached.
 */
export type DeliveryOutcome = 'delivered' | 'answered' | 'timeout' | 'refused' | 'error';

/** One attempt to deliver a callback. Times are epoch ms. */
export interface CallbackDelivery {
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: DeliveryOutcome;
  statusCode: number | null;
  error: string | null;
}

/**
 * The destination whose deliveries share one concurrency bound: `host:port` of the URL, lower-case,
 * with the scheme's default port (the URL itself when it does not parse).
 */
export function callbackDestination(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname.toLowerCase()}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return url;
  }
}

/** One invocation. Times are epoch ms. */
export interface InvocationRecord {
  id: string;
  function: string;
  /** The version of the last run (null while it has not run). */
  version: number | null;
  trigger: Trigger;
  status: InvocationStatus;
  /** Runs so far (1 for a sync invocation). */
  attempt: number;
  /** Runs allowed in all before the invocation is dead. */
  maxAttempts: number;
  statusCode: number | null;
  outcome: Outcome | null;
  cold: boolean | null;
  /** When it arrived (enqueued, or the sync request started). */
  createdAt: number;
  /** Start of the last run. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Duration of the last run. */
  durationMs: number | null;
  /** Queued: the next run not before. */
  runAt: number | null;
  scheduleId: string | null;
  request: RecordedRequest;
  /** Null when not kept (history.bodies: false) or empty. */
  requestBody: Buffer | null;
  requestTruncated: boolean;
  responseHeaders: Record<string, string> | null;
  responseBody: Buffer | null;
  responseTruncated: boolean;
  /** The kumo error of a failed run (deadline_exceeded, instance_crashed, …). */
  error: { code: string; message: string } | null;
  callback: CallbackState | null;
  /** false: bodies are never shown (history.bodies: false at the time it ran). */
  bodiesKept: boolean;
  /** The alias the call came through (the version that served it is `version`), or null. */
  alias: string | null;
  /** The node (kumo up --node-id) that ran the last attempt; null before any ran, or when not recorded. */
  node?: string | null;
}

/** One run of an invocation. */
export interface AttemptRecord {
  invocationId: string;
  attempt: number;
  version: number | null;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  statusCode: number | null;
  outcome: Outcome | null;
  cold: boolean | null;
  error: string | null;
  /** The node that ran this attempt (kumo up --node-id), or null when not recorded. */
  node?: string | null;
}

/** A stored schedule. */
export interface ScheduleRecord {
  id: string;
  function: string;
  /** `manifest` schedules follow the active version's kumo.yaml; `api` ones are added by `kumo schedule`. */
  source: 'manifest' | 'api';
  cron: string;
  tz: string | null;
  /** JSON text of the data sent to each run, or null. */
  data: string | null;
  overlap: 'skip' | 'allow' | 'queue';
  catchup: 'none' | 'one';
  createdAt: number;
  /** The last tick handled (enqueued or skipped); missed ticks are counted from here after a restart. */
  lastTickAt: number | null;
}

/** Headers whose values never enter the history or its views. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-task-token',
]);

/** Headers as recorded: lower-case names, one string each, secrets replaced by "[redacted]". */
export function redactHeaders(
  headers: Record<string, string | string[] | number | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = key.toLowerCase();
    out[name] = SECRET_HEADERS.has(name)
      ? '[redacted]'
      : Array.isArray(value)
        ? value.join(', ')
        : String(value);
  }
  return out;
}
