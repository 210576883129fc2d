/**
 * One docs query over a collection's rows: parse, match, collect — with a bound on the documents
 * examined and on the bytes answered. On SQLite it runs in the scanner's worker thread, never on
 * the server's event loop; on PostgreSQL over the store's cursor. The answer is JSON text, so
 * nothing is parsed again on the way out.
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
  const scan = new Scan(req, bounds);
  for (const row of rows) if (!scan.add(row)) break;
  return scan.answer();
}

/** scanDocs over rows read one by one from the store (PostgreSQL: a cursor; the wait is I/O, not CPU). */
export async function scanDocsAsync(
  rows: AsyncIterable<StoredDoc>,
  req: ScanRequest,
  bounds: ScanBounds,
): Promise<string> {
  const scan = new Scan(req, bounds);
  for await (const row of rows) if (!scan.add(row)) break;
  return scan.answer();
}

/** One scan in progress: the matches so far, within the bounds. */
class Scan {
  private readonly out: string[] = [];
  private bytes = 2;
  private examined = 0;
  private readonly req: ScanRequest;
  private readonly bounds: ScanBounds;

  constructor(req: ScanRequest, bounds: ScanBounds) {
    this.req = req;
    this.bounds = bounds;
  }

  /** Examines one row; false once the answer has its `limit` matches (read no more). */
  add(row: StoredDoc): boolean {
    const { req, bounds } = this;
    if (this.out.length >= req.limit) return false;
    if (++this.examined > bounds.scanLimit) {
      throw new KumoError(
        'docs_query_too_large',
        `docs.query: collection ${JSON.stringify(req.collection)} has more than ${bounds.scanLimit} documents to examine (kumo up --docs-scan-limit); narrow it or split the collection`,
      );
    }
    const doc = { ...(JSON.parse(row.json) as Record<string, unknown>), _id: row.id };
    if (!matches(doc, req.query)) return true;
    const text = req.want === 'ids' ? JSON.stringify(row.id) : JSON.stringify(doc);
    this.bytes += text.length + 1;
    if (this.bytes > bounds.maxResultBytes) {
      throw new KumoError(
        'docs_query_too_large',
        `docs.query: the answer is over ${Math.round(bounds.maxResultBytes / 1024 / 1024)} MB; lower "limit" or narrow the query`,
      );
    }
    this.out.push(text);
    return this.out.length < req.limit;
  }

  /** The matches as a JSON array. */
  answer(): string {
    return `[${this.out.join(',')}]`;
  }
}
