/**
 * The `kumo up` flags of what a client can make the server hold (issue 12): how long it may take
 * to send a request, how many body bytes may sit in memory at once, how many deploys may run and
 * how far a bundle may expand. Parsed apart from the rest of the server config so that config.ts
 * only spreads them in.
 */
import { KumoError, parseDuration } from '../../core/index.ts';

/** Bounds of the HTTP front and of deploys. */
export interface LimitsConfig {
  /** A request's headers must arrive within this (ms): 408 request_timeout after. */
  headersTimeoutMs: number;
  /** A request's headers and body must arrive within this (ms): 408 request_timeout after. */
  requestTimeoutMs: number;
  /** Invocation request bodies held in memory at once, over all requests (bytes): 503 server_busy above. */
  bodyBudget: number;
  /** Deploys (upload, unpack, build) at once: 503 deploy_busy above. */
  deployConcurrency: number;
  /** Bytes a deploy bundle may expand to. */
  bundleLimit: number;
}

/** The parseArgs options of these flags. */
export const LIMITS_OPTIONS = {
  'headers-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'body-budget': { type: 'string' },
  'deploy-concurrency': { type: 'string' },
  'bundle-limit': { type: 'string' },
} as const;

/** Their lines in `kumo up --help`. */
export const LIMITS_USAGE = `  --headers-timeout DUR    a request's headers must arrive within this, 408 after (default 10s)
  --request-timeout DUR    a request's headers and body must arrive within this, 408 after (default 30s)
  --body-budget MB         invocation bodies held in memory at once over all requests, 503 above (default 64)
  --deploy-concurrency N   deploys unpacking or building at once, 503 above (default 2)
  --bundle-limit MB        size a deploy bundle may expand to (default 250)
`;

type Values = { [K in keyof typeof LIMITS_OPTIONS]?: string };

const MB = 1024 * 1024;

/** Reads the flags. */
export function parseLimitsConfig(values: Values): LimitsConfig {
  const duration = (flag: keyof Values, def: string) => {
    const text = values[flag] ?? def;
    const ms = parseDuration(text, 's');
    if (ms === undefined || ms < 100)
      throw new KumoError(
        'bad_request',
        `--${flag} must be a duration of at least 100ms, like 10s (got ${text})`,
      );
    return ms;
  };
  const number = (flag: keyof Values, def: number, min: number, integer: boolean) => {
    const text = values[flag];
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
      throw new KumoError(
        'bad_request',
        `--${flag} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got ${text})`,
      );
    return n;
  };
  const headersTimeoutMs = duration('headers-timeout', '10s');
  const requestTimeoutMs = duration('request-timeout', '30s');
  if (headersTimeoutMs > requestTimeoutMs)
    throw new KumoError(
      'bad_request',
      `--headers-timeout (${headersTimeoutMs} ms) must not be longer than --request-timeout (${requestTimeoutMs} ms)`,
    );
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    bodyBudget: Math.round(number('body-budget', 64, 1, false) * MB),
    deployConcurrency: number('deploy-concurrency', 2, 1, true),
    bundleLimit: Math.round(number('bundle-limit', 250, 1, false) * MB),
  };
}
