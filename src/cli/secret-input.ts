/**
 * Reading a secret (a secret value, an API key) without it ever being an argument: from a file,
 * from piped stdin, or typed at a hidden prompt. Arguments land in shell history and in `ps`.
 */
import { readFile } from 'node:fs/promises';
import type { ReadStream } from 'node:tty';
import type { CliIO } from './io.ts';
import { CliError, write } from './io.ts';

/** Reads the value from `file`, else stdin (a hidden prompt on a terminal); one trailing newline is dropped. */
export async function readSecretInput(
  io: CliIO,
  options: { file?: string | undefined; prompt: string },
): Promise<Buffer> {
  if (options.file !== undefined) {
    try {
      return dropNewline(await readFile(options.file));
    } catch (err) {
      throw new CliError(`cannot read ${options.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const stdin = io.stdin ?? process.stdin;
  if (stdin.isTTY === true && typeof (stdin as Partial<ReadStream>).setRawMode === 'function') {
    return hiddenPrompt(stdin as ReadStream, io, options.prompt);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return dropNewline(Buffer.concat(chunks));
}

/** `echo value |` and files saved by editors end with a newline that is not part of the value. */
function dropNewline(data: Buffer): Buffer {
  let end = data.length;
  if (data[end - 1] === 0x0a) end--;
  if (data[end - 1] === 0x0d) end--;
  return data.subarray(0, end);
}

/** Reads one line from a terminal without echoing it. */
async function hiddenPrompt(stdin: ReadStream, io: CliIO, prompt: string): Promise<Buffer> {
  await write(io.stderr, prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let typed = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return Buffer.from(typed, 'utf8');
        if (ch === '\u0003') throw new CliError('cancelled');
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    }
    return Buffer.from(typed, 'utf8');
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    await write(io.stderr, '\n');
  }
}
