/**
 * The `docs` plugin: JSON documents in named collections, persisted in the store, standing in for
 * the lua action server's mongo plugin. Collections are one database shared by every function
 * that lists the plugin (an insert action and a query action see the same data).
 * Actions: insert {collection, data} → id (24 hex digits, like an ObjectID);
 * query {collection, query?, limit?} → [documents with their _id]; delete {collection, query} → count.
 */
import { KumoError } from '../core/index.ts';
import type { PluginStore } from '../store/index.ts';
import { matches } from './doc-query.ts';
import type { Plugin, PluginContext } from './plugin.ts';
import { asRecord, stringField, unknownAction } from './payload.ts';

const ACTIONS = ['insert', 'query', 'delete'] as const;
const MAX_DOC_BYTES = 1024 * 1024;

/** The docs plugin over `store`. */
export function docsPlugin(store: PluginStore): Plugin {
  const select = (collection: string, query: Record<string, unknown>) =>
    store
      .docScan(collection)
      .map(({ id, doc }) => ({ ...doc, _id: id }))
      .filter((doc) => matches(doc, query));
  return {
    name: 'docs',
    actions: ACTIONS,
    call(action: string, payload: unknown, ctx: PluginContext): unknown {
      const where = `docs.${action}`;
      const p = asRecord(payload, where);
      const collection = stringField(p, 'collection', where, 128);
      switch (action) {
        case 'insert': {
          const data = asRecord(p.data, `${where}: "data"`);
          if (Buffer.byteLength(JSON.stringify(data)) > MAX_DOC_BYTES) {
            throw new KumoError(
              'plugin_error',
              `${where}: the document is over ${MAX_DOC_BYTES} bytes as JSON`,
            );
          }
          const { _id: _ignored, ...doc } = data;
          return store.docInsert(collection, doc, ctx.function, ctx.now);
        }
        case 'query': {
          const query = p.query === undefined ? {} : asRecord(p.query, `${where}: "query"`);
          const limit = Math.min(10_000, Math.max(1, Number(p.limit ?? 1000) || 1000));
          return select(collection, query).slice(0, limit);
        }
        case 'delete': {
          const query = asRecord(p.query, `${where}: "query" (use {} to delete every document)`);
          const ids = select(collection, query).map((doc) => doc._id);
          return store.docDelete(collection, ids);
        }
        default:
          throw unknownAction('docs', action, ACTIONS);
      }
    },
  };
}
