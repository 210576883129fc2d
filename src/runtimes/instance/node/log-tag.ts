/**
 * Log tagging inside a node instance: every line written to stdout or stderr inside an invocation
 * starts with the invocation's tag (the format is the instance protocol's, `../../protocol.ts`),
 * so the host can attribute it even when invocations run concurrently.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { tagText } from '../../../core/index.ts';

/** A stream `write` as Node declares it, loose enough to forward every overload. */
type WriteFn = (chunk: unknown, ...rest: unknown[]) => boolean;

/**
 * Wraps `stream.write` so that writes made inside an invocation (as told by `store`) are tagged.
 * Patching the stream rather than `console` catches every console method (log, error, table,
 * trace, dir, group indentation) and direct `process.stdout.write` calls alike.
 */
export function tagStream(stream: NodeJS.WriteStream, store: AsyncLocalStorage<string>): void {
  const original = stream.write.bind(stream) as WriteFn;
  let atLineStart = true;
  const write: WriteFn = (chunk, ...rest) => {
    const id = store.getStore();
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return original(chunk, ...rest);
    if (id === undefined) {
      if (chunk.length > 0) atLineStart = endsLine(chunk);
      return original(chunk, ...rest);
    }
    // write(chunk, encoding?, callback?): decode to text, tag, and write the result as UTF-8.
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
    const callback = rest.find((arg) => typeof arg === 'function');
    let text: string;
    if (typeof chunk !== 'string') text = Buffer.from(chunk).toString('utf8');
    else if (encoding === undefined || /^utf-?8$/i.test(encoding)) text = chunk;
    else text = Buffer.from(chunk, encoding).toString('utf8');
    const tagged = tagText(text, id, atLineStart);
    atLineStart = tagged.atLineStart;
    return callback === undefined ? original(tagged.text, 'utf8') : original(tagged.text, 'utf8', callback);
  };
  stream.write = write as typeof stream.write;
}

/** Whether a chunk written to a stream ends with a newline. */
function endsLine(chunk: string | Uint8Array): boolean {
  if (typeof chunk === 'string') return chunk.endsWith('\n');
  return chunk.length > 0 && chunk[chunk.length - 1] === 0x0a;
}
