/** Splits a byte stream into text lines, capping line length so one huge line cannot eat memory. */
import type { Readable } from 'node:stream';

/** Longest line kept whole; longer ones are cut into pieces of this size. */
export const MAX_LINE_BYTES = 16 * 1024;

/** Calls `onLine` for every line of `stream` (without the newline), and for a last unterminated one. */
export function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      emit(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    while (pending.length > MAX_LINE_BYTES) {
      onLine(pending.slice(0, MAX_LINE_BYTES));
      pending = pending.slice(MAX_LINE_BYTES);
    }
  });
  stream.on('end', () => {
    if (pending.length) emit(pending);
    pending = '';
  });
  function emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    for (let i = 0; i < text.length || i === 0; i += MAX_LINE_BYTES) onLine(text.slice(i, i + MAX_LINE_BYTES));
  }
}
