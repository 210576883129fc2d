/**
 * Turns the deploy stream's events into the three progress lines, keeping the output readable when build
 * log lines (with --verbose) arrive while a step line is still open.
 */
import type { CliIO } from '../io.ts';
import { CliError, write } from '../io.ts';
import { oneLine } from '../client.ts';
import type { DeployEvent, DeployResult } from '../responses.ts';

/** Options of DeployProgress. */
export interface ProgressOptions {
  /** --json: print nothing but the final result (and a failed build's log on stderr). */
  json: boolean;
  /** --verbose: show build log lines as they come. */
  verbose: boolean;
}

/** Prints the progress of one deploy from its events. */
export class DeployProgress {
  readonly #io: CliIO;
  readonly #options: ProgressOptions;
  #open: string | undefined;
  /** Whether log lines were printed since the open step's line began, so it must be printed again to close. */
  #interrupted = false;
  #shown = new Set<'build' | 'start'>();
  #log: string[] = [];

  constructor(io: CliIO, options: ProgressOptions) {
    this.#io = io;
    this.#options = options;
  }

  /** Prints the packaging line, the first of the three. */
  async packaged(name: string, files: number, size: string): Promise<void> {
    if (this.#options.json) return;
    await write(
      this.#io.stdout,
      `[1/3] Packaging ${name} (${files} ${files === 1 ? 'file' : 'files'}, ${size})... done\n`,
    );
  }

  /** Handles one event; resolves to the result on `done`, throws the server's error on `error`. */
  async event(event: DeployEvent): Promise<DeployResult | undefined> {
    switch (event.event) {
      case 'build':
        await this.#close('done');
        this.#shown.add('build');
        await this.#begin(`[2/3] Building version ${event.version}`);
        return undefined;
      case 'log':
        await this.#logLine(event.line);
        return undefined;
      case 'start':
        await this.#close('done');
        this.#shown.add('start');
        await this.#begin('[3/3] Starting');
        return undefined;
      case 'done':
        await this.finish(event.result);
        return event.result;
      case 'error':
        return this.#fail(event.error);
    }
  }

  /** Prints the outcome of a deploy (also used when the server answered with plain JSON, not a stream). */
  async finish(result: DeployResult): Promise<void> {
    await this.#close('done');
    if (this.#options.json) {
      await write(this.#io.stdout, `${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    if (!result.created) {
      await this.#out(
        `${result.function} is unchanged: version ${result.version} is already active (identical content)\n`,
      );
      return;
    }
    // A server answering without a stream (or skipping events) still gets the same three lines.
    if (!this.#shown.has('build')) await this.#out(`[2/3] Building version ${result.version}... done\n`);
    if (!this.#shown.has('start')) await this.#out('[3/3] Starting... done\n');
    await this.#out(`${result.function} is live at ${result.url} (also ${result.path})\n`);
  }

  /** The stream ended without `done` or `error`. */
  async truncated(): Promise<never> {
    await this.#close('failed');
    throw new CliError('the server ended the deploy stream before the deploy finished: see the server log');
  }

  async #fail(error: { code: string; message: string; details?: unknown }): Promise<never> {
    await this.#close('failed');
    if (error.code === 'build_failed' && (this.#options.json || !this.#options.verbose)) {
      const log = buildLog(error.details) ?? this.#log.join('\n');
      if (log.trim()) await write(this.#io.stderr, log.endsWith('\n') ? log : `${log}\n`);
    }
    throw new CliError(oneLine(error.message), { code: error.code });
  }

  async #logLine(line: string): Promise<void> {
    this.#log.push(line);
    if (!this.#options.verbose || this.#options.json) return;
    if (this.#open !== undefined && !this.#interrupted) {
      this.#interrupted = true;
      await this.#out('\n');
    }
    await write(this.#io.stderr, `  ${line}\n`);
  }

  async #begin(text: string): Promise<void> {
    this.#open = text;
    this.#interrupted = false;
    if (!this.#options.json) await this.#out(`${text}...`);
  }

  async #close(status: 'done' | 'failed'): Promise<void> {
    const text = this.#open;
    if (text === undefined) return;
    this.#open = undefined;
    if (this.#options.json) return;
    await this.#out(this.#interrupted ? `${text}... ${status}\n` : ` ${status}\n`);
  }

  async #out(text: string): Promise<void> {
    await write(this.#io.stdout, text);
  }
}

/** `details.log` of a build_failed error, when the server attached it. */
function buildLog(details: unknown): string | undefined {
  if (typeof details !== 'object' || details === null || !('log' in details)) return undefined;
  return typeof details.log === 'string' ? details.log : undefined;
}
