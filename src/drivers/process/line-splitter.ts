/** Splits a byte stream into text lines, capping line length so one huge line cannot eat memory. */
import type { Readable } from 'node:stream';

/** Longest line kept whole; longer ones are cut into pieces of this size. */
export const MAX_LINE_BYTES = 16 * 1024;

/** Calls `onLine` for every line of `stream` (without the newline), and for a last unterminated one. */
export function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const text = pending + chunk;
    // Scan with an index and cut the remainder once: re-slicing per line is quadratic in a flood.
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      emit(text.slice(start, nl));
      start = nl + 1;
    }
    pending = text.slice(start);
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
    if (text.length <= MAX_LINE_BYTES) return onLine(text);
    for (let i = 0; i < text.length; i += MAX_LINE_BYTES) onLine(text.slice(i, i + MAX_LINE_BYTES));
  }
}
