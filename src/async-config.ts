/**
 * The `kumo up` flags of async invocations, callbacks, history and metrics, parsed apart from the
 * rest of the server config so that config.ts only spreads them in.
 */
import { KumoError, parseDuration } from './core/index.ts';

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
    telemetry: !(values['telemetry-off'] ?? false) && env.KUMO_TELEMETRY !== 'off',
  };
}
