/**
 * Log tagging: inside an invocation, every line an instance writes to stdout or stderr starts with
 * `\u001e<invocationId>\u001f`, so the host can attribute it even when invocations run
 * concurrently. The host strips the tag with `parseTaggedLine`; untagged lines are attributed by
 * the host on its own (for example to the only invocation in flight, or to none).
 */
import type { AsyncLocalStorage } from 'node:async_hooks';

/** Starts a tag (ASCII record separator): never found in ordinary log text. */
export const TAG_START = '\u001e';
/** Ends a tag (ASCII unit separator). */
export const TAG_END = '\u001f';

/** A log line with its tag removed. */
export interface TaggedLine {
  /** The invocation that wrote the line, or null when it carried no tag. */
  invocationId: string | null;
  text: string;
}

/** Splits a line read from an instance into its invocation id (if tagged) and its text. */
export function parseTaggedLine(line: string): TaggedLine {
  if (!line.startsWith(TAG_START)) return { invocationId: null, text: line };
  const end = line.indexOf(TAG_END, TAG_START.length);
  if (end === -1) return { invocationId: null, text: line };
  return { invocationId: line.slice(TAG_START.length, end), text: line.slice(end + TAG_END.length) };
}

/**
 * Prefixes every line of `text` that starts within it with the tag of `invocationId`.
 * `atLineStart` says whether the stream's previous write ended a line; the result says whether
 * this one did, so partial writes (`process.stdout.write('a')`) are tagged once per line.
 */
export function tagText(
  text: string,
  invocationId: string,
  atLineStart: boolean,
): { text: string; atLineStart: boolean } {
  if (text === '') return { text, atLineStart };
  const tag = `${TAG_START}${invocationId}${TAG_END}`;
  const lines = text.split('\n');
  const out = lines.map((line, i) => {
    const startsLine = i === 0 ? atLineStart : true;
    // The piece after a trailing newline is empty: the next write starts that line.
    const isTrailing = i === lines.length - 1 && line === '';
    return startsLine && !isTrailing ? tag + line : line;
  });
  return { text: out.join('\n'), atLineStart: text.endsWith('\n') };
}

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
