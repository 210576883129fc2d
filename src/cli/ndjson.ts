/** Reads newline-delimited JSON (deploy progress, `logs --follow`) as it arrives. */
import { CliError } from './io.ts';

/** Yields each JSON value of an NDJSON body as soon as its line is complete; blank lines are skipped. */
export async function* readNdjson(body: ReadableStream<Uint8Array> | null): AsyncGenerator<unknown> {
  if (body === null) return;
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim()) yield parseLine(line);
    }
  }
  pending += decoder.decode();
  if (pending.trim()) yield parseLine(pending);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new CliError(`the server sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
}
