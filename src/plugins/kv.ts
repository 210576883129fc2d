/**
 * The `kv` plugin: a key-value store with one namespace per function, persisted in the store.
 * Actions: get {key} → value or nil; set {key, value} → true; delete {key} → whether it existed;
 * list {prefix?, limit?} → [{key, value}] sorted by key. A set that would take the function past
 * its quota (`kv.keys`, `kv.size`) is refused with plugin_quota_exceeded and stores nothing.
 * Values go out as the JSON text they are stored as, never parsed on the server.
 */
import { KumoError } from '../core/index.ts';
import type { PluginStore } from '../store/index.ts';
import { RawJson, type Plugin, type PluginContext } from './plugin.ts';
import { asRecord, stringField, unknownAction } from './payload.ts';
import { quotaError } from './quota.ts';

/** Largest stored value, as JSON. */
const MAX_VALUE_BYTES = 1024 * 1024;
const ACTIONS = ['get', 'set', 'delete', 'list'] as const;

/** The kv plugin over `store`. */
export function kvPlugin(store: PluginStore): Plugin {
  return {
    name: 'kv',
    actions: ACTIONS,
    async call(action: string, payload: unknown, ctx: PluginContext): Promise<unknown> {
      const where = `kv.${action}`;
      const p = asRecord(payload ?? {}, where);
      switch (action) {
        case 'get': {
          const json = await store.kvGet(ctx.function, stringField(p, 'key', where));
          return json === undefined ? null : new RawJson(json);
        }
        case 'set': {
          const key = stringField(p, 'key', where);
          const json = JSON.stringify(p.value ?? null);
          if (Buffer.byteLength(json) > MAX_VALUE_BYTES) {
            throw new KumoError(
              'plugin_error',
              `${where}: the value is over ${MAX_VALUE_BYTES} bytes as JSON`,
            );
          }
          const quota = { items: ctx.quotas.kv.keys, bytes: ctx.quotas.kv.bytes };
          const refusal = await store.kvSet(ctx.function, key, json, ctx.now, quota);
          if (refusal)
            throw quotaError(where, ctx.function, 'kv', refusal.refused, quota, ['keys', 'kv.keys']);
          return true;
        }
        case 'delete':
          return await store.kvDelete(ctx.function, stringField(p, 'key', where));
        case 'list': {
          const prefix = p.prefix === undefined ? '' : String(p.prefix);
          const limit = Math.min(1000, Math.max(1, Number(p.limit ?? 100) || 100));
          const rows = await store.kvList(ctx.function, prefix, limit);
          return new RawJson(
            `[${rows.map((r) => `{"key":${JSON.stringify(r.key)},"value":${r.json}}`).join(',')}]`,
          );
        }
        default:
          throw unknownAction('kv', action, ACTIONS);
      }
    },
  };
}
