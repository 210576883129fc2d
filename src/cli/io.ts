/** What the CLI reads and writes, passed in so that tests can capture it and bin/kumo.js can wire the process. */
import { once } from 'node:events';

/** The streams, environment and working directory a command runs with. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Request bodies (`invoke --data -`) and the delete prompt; process.stdin when absent. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Runs `kumo up`; the server owns that command, so bin/kumo.js passes it in (or handles `up` itself). */
  up?: (argv: string[], io: CliIO) => Promise<number>;
}

/** A failure to report as `kumo: <message> (<code>)` with a non-zero exit. */
export class CliError extends Error {
  readonly code: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { code?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = options.code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad command line: reported with the command's usage and exit code 2. */
export class UsageError extends CliError {
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message, { exitCode: 2 });
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** Writes `text` and waits for the stream to drain when it is full, so streamed bodies never pile up in memory. */
export async function write(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
