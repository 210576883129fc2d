/**
 * One docs query over a collection's rows: parse, match, collect — with a bound on the documents
 * examined and on the bytes answered. Runs in the scanner's worker thread, never on the server's
 * event loop; the answer is JSON text, so nothing is parsed again on the way out.
 */
import { KumoError } from '../core/index.ts';
import type { StoredDoc } from '../store/index.ts';
import { matches } from './doc-query.ts';

/** What to scan for. */
export interface ScanRequest {
  collection: string;
  query: Record<string, unknown>;
  /** Matches to return at most. */
  limit: number;
  /** `docs`: the documents with their `_id`; `ids`: only the ids (for delete). */
  want: 'docs' | 'ids';
}

/** Bounds of one scan. */
export interface ScanBounds {
  /** Documents examined at most. */
  scanLimit: number;
  /** Bytes of the answer at most. */
  maxResultBytes: number;
}

/** Scans `rows` for `req`; the answer as a JSON array. Throws docs_query_too_large past a bound. */
export function scanDocs(rows: Iterable<StoredDoc>, req: ScanRequest, bounds: ScanBounds): string {
  const out: string[] = [];
  let bytes = 2;
  let examined = 0;
  for (const row of rows) {
    if (out.length >= req.limit) break;
    if (++examined > bounds.scanLimit) {
      throw new KumoError(
        'docs_query_too_large',
        `docs.query: collection ${JSON.stringify(req.collection)} has more than ${bounds.scanLimit} documents to examine (kumo up --docs-scan-limit); narrow it or split the collection`,
      );
    }
    const doc = { ...(JSON.parse(row.json) as Record<string, unknown>), _id: row.id };
    if (!matches(doc, req.query)) continue;
    const text = req.want === 'ids' ? JSON.stringify(row.id) : JSON.stringify(doc);
    bytes += text.length + 1;
    if (bytes > bounds.maxResultBytes) {
      throw new KumoError(
        'docs_query_too_large',
        `docs.query: the answer is over ${Math.round(bounds.maxResultBytes / 1024 / 1024)} MB; lower "limit" or narrow the query`,
      );
    }
    out.push(text);
  }
  return `[${out.join(',')}]`;
}
