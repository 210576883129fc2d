/** Reading request bodies whole, with a size limit enforced before and while reading. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KumoError } from '../core/index.ts';
import type { BodyBudget } from './body-budget.ts';
import { timedOut } from './client-errors.ts';

/** Reads the whole body of `req`; throws payload_too_large past `limit` bytes (checked on Content-Length first). */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  what = 'request body',
  /**
   * The response of an invocation: its body's bytes are reserved in `budget` (server_busy when
   * they are not free) until it closes, and a refused body is not read but its connection closed.
   */
  hold?: { res: ServerResponse; budget: BodyBudget | undefined },
): Promise<Buffer> {
  const reserve = hold?.budget?.holder(hold.res);
  const refuse = (err: unknown) => {
    if (hold) closeUnread(req, hold.res);
    else req.resume();
    return err;
  };
  const tooLarge = () =>
    new KumoError('payload_too_large', `${what} is larger than the limit of ${limit} bytes`, { limit });
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw refuse(tooLarge());
  const known = Number.isFinite(declared);
  try {
    if (known) reserve?.(declared);
  } catch (err) {
    throw refuse(err);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      if (!known) reserve?.(chunk.length);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof KumoError) throw refuse(err);
    // The connection ended before the body did: cut at the request timeout, or the client left.
    throw timedOut(req.socket)
      ? new KumoError('request_timeout', `the ${what} did not arrive within the server's request timeout`)
      : new KumoError('bad_request', `the client closed the connection before the whole ${what} arrived`);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/**
 * A body that is refused is not read: its answer closes the connection, which is ended once the
 * answer is out (reading megabytes only to drop them is what a refusal must not cost).
 */
function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroy());
}
