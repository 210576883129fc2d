/** What every `kumo` subcommand provides, and the small output helpers they share. */
import { ApiClient, serverUrl } from './client.ts';
import { findKey } from './credentials.ts';
import type { CliIO } from './io.ts';
import { write } from './io.ts';

/** One subcommand: its help and how it runs. */
export interface Command {
  name: string;
  /** The one-line synopsis shown in `kumo --help`, e.g. `logs NAME [-f] [--since 10m]`. */
  synopsis: string;
  /** What it does, in a few words, for `kumo --help`. */
  summary: string;
  /** The full text of `kumo COMMAND --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** The client for the server chosen by --url or KUMO_URL, with the API key found for it (credentials.ts). */
export function clientFor(values: { url?: string | undefined }, io: CliIO): ApiClient {
  const url = serverUrl(values.url, io.env);
  return new ApiClient(url, findKey(url, io.env, io.cwd)?.key);
}

/** Prints a help text (or the version) on stdout, ending in one newline; resolves to exit code 0. */
export async function printText(io: CliIO, text: string): Promise<number> {
  await write(io.stdout, text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}

/** Prints a value as indented JSON on stdout, for --json. */
export async function printJson(io: CliIO, value: unknown): Promise<void> {
  await write(io.stdout, `${JSON.stringify(value, null, 2)}\n`);
}

/** Prints one line on stdout. */
export async function println(io: CliIO, line: string): Promise<void> {
  await write(io.stdout, `${line}\n`);
}
