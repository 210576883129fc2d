/**
 * The `docs` plugin: JSON documents in named collections, persisted in the store, standing in for
 * the lua action server's mongo plugin. Collections are one database shared by every function
 * that lists the plugin (an insert action and a query action see the same data); a document
 * belongs to the function that inserted it: it counts against that function's quota
 * (`docs.documents`, `docs.size`) and is removed when that function is deleted.
 * Actions: insert {collection, data} → id (24 hex digits, like an ObjectID);
 * insertMany {collection, documents} → ids; query {collection, query?, limit?} → [documents
 * with their _id]; delete {collection, query} → count. Queries and deletes scan in the
 * scanner's worker thread, never on the server's event loop.
 */
import { KumoError } from '../core/index.ts';
import type { PluginStore } from '../store/index.ts';
import type { DocScan } from './docs-scanner.ts';
import { RawJson, type Plugin, type PluginContext } from './plugin.ts';
import { asRecord, stringField, unknownAction } from './payload.ts';
import { quotaError } from './quota.ts';

const ACTIONS = ['insert', 'insertMany', 'query', 'delete'] as const;
const MAX_DOC_BYTES = 1024 * 1024;
/** Documents one insertMany may carry (the call itself is at most 2 MB). */
const MAX_BATCH = 1000;
/** Documents removed per transaction by a delete. */
const DELETE_BATCH = 500;

/** The docs plugin over `store`, scanning with `scanner`. */
export function docsPlugin(store: PluginStore, scanner: DocScan): Plugin {
  const insert = async (collection: string, docs: unknown[], ctx: PluginContext, where: string) => {
    const texts = docs.map((d, i) => {
      const { _id: _ignored, ...doc } = asRecord(
        d,
        docs.length === 1 ? `${where}: "data"` : `${where}: document ${i + 1}`,
      );
      const json = JSON.stringify(doc);
      if (Buffer.byteLength(json) > MAX_DOC_BYTES)
        throw new KumoError('plugin_error', `${where}: a document is over ${MAX_DOC_BYTES} bytes as JSON`);
      return json;
    });
    const quota = { items: ctx.quotas.docs.documents, bytes: ctx.quotas.docs.bytes };
    const ids = await store.docInsert(collection, texts, ctx.function, ctx.now, quota);
    if (!Array.isArray(ids))
      throw quotaError(where, ctx.function, 'docs', ids.refused, quota, ['documents', 'docs.documents']);
    return ids;
  };
  return {
    name: 'docs',
    actions: ACTIONS,
    async call(action: string, payload: unknown, ctx: PluginContext): Promise<unknown> {
      const where = `docs.${action}`;
      const p = asRecord(payload, where);
      const collection = stringField(p, 'collection', where, 128);
      switch (action) {
        case 'insert':
          return (await insert(collection, [p.data], ctx, where))[0];
        case 'insertMany': {
          if (!Array.isArray(p.documents) || p.documents.length === 0 || p.documents.length > MAX_BATCH)
            throw new KumoError(
              'plugin_error',
              `${where}: "documents" must be a list of 1 to ${MAX_BATCH} documents`,
            );
          return await insert(collection, p.documents, ctx, where);
        }
        case 'query': {
          const query = p.query === undefined ? {} : asRecord(p.query, `${where}: "query"`);
          const limit = Math.min(10_000, Math.max(1, Number(p.limit ?? 1000) || 1000));
          return new RawJson(await scanner.scan(ctx.function, { collection, query, limit, want: 'docs' }));
        }
        case 'delete': {
          const query = asRecord(p.query, `${where}: "query" (use {} to delete every document)`);
          const ids = JSON.parse(
            await scanner.scan(ctx.function, {
              collection,
              query,
              limit: Number.MAX_SAFE_INTEGER,
              want: 'ids',
            }),
          ) as string[];
          // In batches, each its own transaction, so a large delete never holds the event loop long.
          let removed = 0;
          for (let i = 0; i < ids.length; i += DELETE_BATCH) {
            if (i > 0) await new Promise((resolve) => setImmediate(resolve));
            removed += await store.docDelete(collection, ids.slice(i, i + DELETE_BATCH));
          }
          return removed;
        }
        default:
          throw unknownAction('docs', action, ACTIONS);
      }
    },
  };
}
