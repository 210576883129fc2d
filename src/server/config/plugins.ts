/** `kumo up` options of the built-in plugins: quotas per function, the docs scan limit, the queue per function. */
import { KumoError, PLUGIN_QUOTA_LIMITS, type PluginQuotas } from '../../core/index.ts';

/** Plugin settings of the server. */
export interface PluginConfig {
  /** Defaults and ceilings of every function's kv and docs data. */
  quotas: PluginQuotas;
  /** Documents one docs query or delete may examine. */
  scanLimit: number;
  /** docs queries of one function that may wait for the scanner; past it, 429 plugin_busy. */
  queuePerFunction: number;
}

/** parseArgs options of this part. */
export const PLUGIN_OPTIONS = {
  'kv-keys': { type: 'string' },
  'kv-size': { type: 'string' },
  'docs-documents': { type: 'string' },
  'docs-size': { type: 'string' },
  'docs-scan-limit': { type: 'string' },
  'plugin-queue': { type: 'string' },
} as const;

const L = PLUGIN_QUOTA_LIMITS;

/** The lines of `kumo up --help` for these options. */
export const PLUGIN_USAGE = `  --kv-keys N              kv keys per function, default and most a manifest may ask (default ${L.kvKeys.default})
  --kv-size MB             kv bytes per function, keys and values (default ${L.kvSizeMb.default})
  --docs-documents N       docs documents a function may insert (default ${L.docsDocuments.default})
  --docs-size MB           docs bytes a function may insert (default ${L.docsSizeMb.default})
  --docs-scan-limit N      documents one docs query or delete may examine (default 200000)
  --plugin-queue N         docs queries of one function waiting for the scanner (default 16)
`;

type Values = { [K in keyof typeof PLUGIN_OPTIONS]?: string | undefined };

/** Reads the options of this part. */
export function parsePluginConfig(values: Values): PluginConfig {
  const int = (flag: keyof Values, min: number, max: number, def: number) => {
    const text = values[flag];
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new KumoError(
        'bad_request',
        `--${flag} must be a whole number from ${min} to ${max} (got ${text})`,
      );
    return n;
  };
  const MB = 1024 * 1024;
  return {
    quotas: {
      kv: {
        keys: int('kv-keys', L.kvKeys.min, L.kvKeys.max, L.kvKeys.default),
        bytes: int('kv-size', L.kvSizeMb.min, L.kvSizeMb.max, L.kvSizeMb.default) * MB,
      },
      docs: {
        documents: int('docs-documents', L.docsDocuments.min, L.docsDocuments.max, L.docsDocuments.default),
        bytes: int('docs-size', L.docsSizeMb.min, L.docsSizeMb.max, L.docsSizeMb.default) * MB,
      },
    },
    scanLimit: int('docs-scan-limit', 1, 100_000_000, 200_000),
    queuePerFunction: int('plugin-queue', 1, 10_000, 16),
  };
}
