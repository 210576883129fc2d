/**
 * How much a function may keep in the built-in plugins: `kv` keys and bytes, `docs` documents and
 * bytes. `kumo up` sets the defaults, which are also the ceilings; a manifest's `kv:` and `docs:`
 * may ask for less, or for more up to those ceilings (like `build:`).
 */
import { z } from 'zod';
import { KumoError } from './errors.ts';

/** The quotas of one function. Bytes count keys and values (or documents) as stored, in UTF-8 JSON. */
export interface PluginQuotas {
  kv: { keys: number; bytes: number };
  docs: { documents: number; bytes: number };
}

const MB = 1024 * 1024;

/** Bounds of what a server may set, and its defaults (sizes in MB). */
export const PLUGIN_QUOTA_LIMITS = {
  kvKeys: { min: 1, max: 10_000_000, default: 10_000 },
  kvSizeMb: { min: 1, max: 65_536, default: 16 },
  docsDocuments: { min: 1, max: 10_000_000, default: 20_000 },
  docsSizeMb: { min: 1, max: 65_536, default: 32 },
} as const;

/** The quotas of a server that sets nothing. */
export const DEFAULT_PLUGIN_QUOTAS: PluginQuotas = {
  kv: { keys: PLUGIN_QUOTA_LIMITS.kvKeys.default, bytes: PLUGIN_QUOTA_LIMITS.kvSizeMb.default * MB },
  docs: {
    documents: PLUGIN_QUOTA_LIMITS.docsDocuments.default,
    bytes: PLUGIN_QUOTA_LIMITS.docsSizeMb.default * MB,
  },
};

const count = (what: string) =>
  z
    .number({ error: (i) => `must be a whole number of ${what} (got ${JSON.stringify(i.input)})` })
    .int({ error: (i) => `must be a whole number of ${what} (got ${JSON.stringify(i.input)})` })
    .positive({ error: (i) => `must be at least 1 (got ${JSON.stringify(i.input)})` });

/** The manifest's `kv:` field: `keys` and `size` (MB) the function may keep. */
export const kvQuotaField = z
  .strictObject({ keys: count('keys').optional(), size: count('MB').optional() })
  .optional();

/** The manifest's `docs:` field: `documents` and `size` (MB) the function may insert. */
export const docsQuotaField = z
  .strictObject({ documents: count('documents').optional(), size: count('MB').optional() })
  .optional();

/** What a manifest may say about quotas. */
export interface PluginQuotaRequest {
  kv?: z.output<typeof kvQuotaField>;
  docs?: z.output<typeof docsQuotaField>;
}

/**
 * The manifest's request within the server's ceilings. `strict`: throws invalid_manifest naming the
 * field over a ceiling (at deploy); otherwise clamps (a version deployed before the server lowered them).
 */
export function resolvePluginQuotas(
  asked: PluginQuotaRequest,
  server: PluginQuotas,
  strict = true,
): PluginQuotas {
  const pick = (field: string, flag: string, value: number | undefined, ceiling: number, scale = 1) => {
    if (value === undefined) return ceiling;
    if (value * scale <= ceiling) return value * scale;
    if (!strict) return ceiling;
    const unit = scale === 1 ? '' : ' MB';
    throw new KumoError(
      'invalid_manifest',
      `manifest: "${field}" may be at most ${ceiling / scale}${unit} on this server (got ${value}${unit}; kumo up ${flag} raises it)`,
    );
  };
  return {
    kv: {
      keys: pick('kv.keys', '--kv-keys', asked.kv?.keys, server.kv.keys),
      bytes: pick('kv.size', '--kv-size', asked.kv?.size, server.kv.bytes, MB),
    },
    docs: {
      documents: pick('docs.documents', '--docs-documents', asked.docs?.documents, server.docs.documents),
      bytes: pick('docs.size', '--docs-size', asked.docs?.size, server.docs.bytes, MB),
    },
  };
}
