import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KumoError } from './errors.ts';
import { parseManifest } from './manifest.ts';
import { DEFAULT_PLUGIN_QUOTAS, resolvePluginQuotas } from './plugin-quotas.ts';

const MB = 1024 * 1024;

test('kv: and docs: ask for less or up to the server ceilings; over one is invalid_manifest naming the flag', () => {
  const m = parseManifest({ kv: { keys: 5, size: 1 }, docs: { documents: 7 } });
  assert.deepEqual(resolvePluginQuotas(m, DEFAULT_PLUGIN_QUOTAS), {
    kv: { keys: 5, bytes: MB },
    docs: { documents: 7, bytes: DEFAULT_PLUGIN_QUOTAS.docs.bytes },
  });
  assert.deepEqual(resolvePluginQuotas({}, DEFAULT_PLUGIN_QUOTAS), DEFAULT_PLUGIN_QUOTAS);
  const big = parseManifest({ kv: { keys: 20_000 } });
  assert.throws(
    () => resolvePluginQuotas(big, DEFAULT_PLUGIN_QUOTAS),
    (err: KumoError) =>
      err.code === 'invalid_manifest' && /"kv.keys" may be at most 10000 .*--kv-keys/.test(err.message),
  );
  assert.equal(
    resolvePluginQuotas(big, DEFAULT_PLUGIN_QUOTAS, false).kv.keys,
    10_000,
    'clamped after a deploy',
  );
  assert.throws(() => parseManifest({ docs: { documents: 0 } }), /"docs.documents" must be at least 1/);
  assert.throws(() => parseManifest({ kv: { bytes: 3 } }), /unknown field "kv.bytes"/);
});
