/** Reading request bodies whole, with a size limit enforced before and while reading. */
import type { IncomingMessage } from 'node:http';
import { KumoError } from '../core/index.ts';

/** Reads the whole body of `req`; throws payload_too_large past `limit` bytes (checked on Content-Length first). */
export async function readBody(req: IncomingMessage, limit: number, what = 'request body'): Promise<Buffer> {
  const tooLarge = () =>
    new KumoError('payload_too_large', `${what} is larger than the limit of ${limit} bytes`, { limit });
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
