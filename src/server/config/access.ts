/**
 * The `kumo up` flags of access control (rate limit of the control plane, request size limits,
 * the secrets master key), parsed apart from the rest of the server config so that config.ts only
 * spreads them in.
 */
import path from 'node:path';
import { KumoError } from '../../core/index.ts';

/** Settings of the front door and of secrets. */
export interface AccessConfig {
  /** Control-plane requests per second per API key, and the burst above it. */
  apiRate: { rps: number; burst: number };
  /** Longest request URL (bytes): 414 above. */
  urlLimit: number;
  /** Largest request header section (bytes): 431 above. */
  headerLimit: number;
  /** The master key file of secrets (outside the database; created 0600 when absent). */
  secretsKeyFile: string;
  /** KUMO_SECRETS_KEY: the master key itself (base64 or hex), which wins over the file. */
  secretsKeyInline: string | undefined;
}

/** The parseArgs options of these flags. */
export const ACCESS_OPTIONS = {
  'api-rate': { type: 'string' },
  'url-limit': { type: 'string' },
  'header-limit': { type: 'string' },
  'secrets-key': { type: 'string' },
} as const;

/** Their lines in `kumo up --help`. */
export const ACCESS_USAGE = `  --api-rate N             control-plane requests per second per API key, burst 10x (env KUMO_API_RATE, default 50)
  --url-limit BYTES        longest request URL, 414 above (default 8192)
  --header-limit BYTES     largest request header section, 431 above (default 16384)
  --secrets-key FILE       master key of function secrets (env KUMO_SECRETS_KEY_FILE, default DATA/secrets.key;
                           KUMO_SECRETS_KEY may hold the key itself, base64)
`;

type Values = { [K in keyof typeof ACCESS_OPTIONS]?: string };

/** Reads the flags over KUMO_API_RATE, KUMO_SECRETS_KEY_FILE and KUMO_SECRETS_KEY. */
export function parseAccessConfig(
  values: Values,
  env: NodeJS.ProcessEnv,
  dataDir: string,
  cwd: string,
): AccessConfig {
  const positive = (flag: keyof Values, text: string | undefined, def: number, min: number) => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min)
      throw new KumoError('bad_request', `--${flag} must be a number of at least ${min} (got ${text})`);
    return n;
  };
  const rps = positive('api-rate', values['api-rate'] ?? env.KUMO_API_RATE, 50, 0.1);
  const keyFile = values['secrets-key'] ?? env.KUMO_SECRETS_KEY_FILE;
  return {
    apiRate: { rps, burst: Math.max(1, Math.ceil(rps * 10)) },
    urlLimit: Math.round(positive('url-limit', values['url-limit'], 8192, 256)),
    headerLimit: Math.round(positive('header-limit', values['header-limit'], 16384, 1024)),
    secretsKeyFile: keyFile ? path.resolve(cwd, keyFile) : path.join(dataDir, 'secrets.key'),
    secretsKeyInline: env.KUMO_SECRETS_KEY || undefined,
  };
}
