/**
 * The `kumo up` flags of async invocations, callbacks, history and metrics, parsed apart from the
 * rest of the server config so that config.ts only spreads them in.
 */
import { KumoError, parseDuration } from '../../core/index.ts';

/** Settings of the queue, callbacks, history and metrics. */
export interface AsyncConfig {
  /** Async runs at once over all functions. */
  workers: number;
  /** First retry delay of a failed async run (doubled each retry). */
  retryBackoffMs: number;
  /** Callback allow-list: CIDRs, addresses, host names, `*.suffix`. Empty: all but metadata/link-local. */
  callbackAllow: string[];
  /** Delivery attempts of one callback. */
  callbackAttempts: number;
  /** Deadline of one delivery attempt, DNS to last byte (ms). */
  callbackTimeoutMs: number;
  /** Deliveries at once over all receivers. */
  callbackConcurrency: number;
  /** Deliveries at once to one receiver (host:port). */
  callbackPerHost: number;
  /** Bytes of each request and response body kept in the history. */
  historyBodyLimit: number;
  /** Finished invocations kept per function. */
  historyMax: number;
  /** Finished invocations older than this are dropped (ms). */
  historyAgeMs: number;
  /** Largest body of an async request (bytes): 413 above. Smaller than the sync limit: it is stored. */
  asyncBodyLimit: number;
  /** Queued and running async invocations per function: 429 queue_full above. */
  queueMax: number;
  /** Queued and running async invocations over all functions: 429 queue_full above. */
  queueMaxTotal: number;
  /** Bytes of requests and responses (bodies and headers) kept in the history over all functions. */
  historyMaxBytes: number;
  /** false: sync requests are not recorded in the history nor counted in metrics (benchmark baseline). */
  telemetry: boolean;
}

/** The parseArgs options of these flags. */
export const ASYNC_OPTIONS = {
  'async-workers': { type: 'string' },
  'retry-backoff': { type: 'string' },
  'callback-allow': { type: 'string', multiple: true },
  'callback-attempts': { type: 'string' },
  'callback-timeout': { type: 'string' },
  'callback-concurrency': { type: 'string' },
  'callback-per-host': { type: 'string' },
  'history-body-limit': { type: 'string' },
  'history-max': { type: 'string' },
  'history-age': { type: 'string' },
  'history-max-bytes': { type: 'string' },
  'async-body-limit': { type: 'string' },
  'queue-max': { type: 'string' },
  'queue-max-total': { type: 'string' },
  'telemetry-off': { type: 'boolean', default: false },
} as const;

/** Their lines in `kumo up --help`. */
export const ASYNC_USAGE = `  --async-workers N        async runs at once over all functions (default 64)
  --retry-backoff DUR      first retry delay of a failed async run, doubled each retry (default 1s)
  --callback-allow LIST    callback allow-list: CIDRs, addresses, host names, *.suffix; repeatable or
                           comma-separated (env KUMO_CALLBACK_ALLOW; default: any but metadata/link-local)
  --callback-attempts N    delivery attempts of one callback (default 8)
  --callback-timeout DUR   deadline of one delivery attempt, connect to last byte (default 10s)
  --callback-concurrency N deliveries at once over all receivers (default 16)
  --callback-per-host N    deliveries at once to one receiver host:port (default 2)
  --history-body-limit KB  bytes of each body kept in the invocation history (default 16)
  --history-max N          finished invocations kept per function (default 10000)
  --history-age DUR        finished invocations kept this long (default 7d)
  --history-max-bytes MB   bytes of requests and responses kept in the history in all (default 256)
  --async-body-limit KB    largest async request body, 413 above (default 256)
  --queue-max N            queued and running async invocations per function, 429 above (default 1000)
  --queue-max-total N      queued and running async invocations in all, 429 above (default 10000)
  --telemetry-off          record no history or metrics for sync requests (benchmark baseline)
`;

type Values = {
  [K in keyof typeof ASYNC_OPTIONS]?: (typeof ASYNC_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof ASYNC_OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

/** Reads the flags (over KUMO_CALLBACK_ALLOW and KUMO_TELEMETRY). */
export function parseAsyncConfig(values: Values, env: NodeJS.ProcessEnv): AsyncConfig {
  const int = (flag: keyof Values, def: number, min: number) => {
    const text = values[flag];
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new KumoError(
        'bad_request',
        `--${flag} must be a whole number of at least ${min} (got ${String(text)})`,
      );
    return n;
  };
  const duration = (flag: keyof Values, def: string) => {
    const text = String(values[flag] ?? def);
    const ms = parseDuration(text, 's');
    if (ms === undefined || ms <= 0)
      throw new KumoError('bad_request', `--${flag} must be a duration like 1s, 10m or 7d (got ${text})`);
    return ms;
  };
  const positive = (flag: keyof Values, def: number) => {
    const text = values[flag];
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new KumoError('bad_request', `--${flag} must be a positive number (got ${String(text)})`);
    return n;
  };
  const allow = [
    ...(values['callback-allow'] ?? []),
    ...(env.KUMO_CALLBACK_ALLOW ? [env.KUMO_CALLBACK_ALLOW] : []),
  ]
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return {
    workers: int('async-workers', 64, 1),
    retryBackoffMs: duration('retry-backoff', '1s'),
    callbackAllow: allow,
    callbackAttempts: int('callback-attempts', 8, 1),
    callbackTimeoutMs: duration('callback-timeout', '10s'),
    callbackConcurrency: int('callback-concurrency', 16, 1),
    callbackPerHost: int('callback-per-host', 2, 1),
    historyBodyLimit: int('history-body-limit', 16, 0) * 1024,
    historyMax: int('history-max', 10_000, 1),
    historyAgeMs: duration('history-age', '7d'),
    historyMaxBytes: Math.round(positive('history-max-bytes', 256) * 1024 * 1024),
    asyncBodyLimit: int('async-body-limit', 256, 1) * 1024,
    queueMax: int('queue-max', 1000, 1),
    queueMaxTotal: int('queue-max-total', 10_000, 1),
    telemetry: !(values['telemetry-off'] ?? false) && env.KUMO_TELEMETRY !== 'off',
  };
}
