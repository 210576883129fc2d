/** Command-line parsing shared by the commands: the common flags and the usage errors (exit 2). */
import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { FUNCTION_NAME } from '../core/index.ts';
import { UsageError } from './io.ts';

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** The lines of help about the common flags, appended to every command's usage. */
export const COMMON_HELP = `Common options:
  --url URL     the kumo server (default: $KUMO_URL, else the kumo login server, else http://127.0.0.1:8080)
  --json        print machine-readable JSON on stdout
  -h, --help    show this help`;

/** Parses `args` strictly against the common flags plus `options`; a bad flag is a UsageError showing `usage`. */
export function parseCommand<O extends ParseArgsOptionsConfig>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      // Node's messages go on to explain `--`; the first sentence is the one-line reason.
      throw new UsageError(firstSentence(err.message), usage);
    }
    throw err;
  }
}

function firstSentence(message: string): string {
  const line = message.split('\n')[0] ?? message;
  const end = line.search(/\.(\s|$)/);
  const sentence = end >= 0 ? line.slice(0, end) : line;
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

/** The positional arguments, exactly `names.length` of them (named in the error when missing or extra). */
export function positionals(given: readonly string[], names: readonly string[], usage: string): string[] {
  if (given.length < names.length) throw new UsageError(`missing ${names[given.length]}`, usage);
  if (given.length > names.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`, usage);
  return [...given];
}

/** The single NAME argument of a function command, checked to be a function name. */
export function functionName(given: readonly string[], usage: string): string {
  const [name] = positionals(given, ['NAME'], usage);
  if (name === undefined || !FUNCTION_NAME.test(name)) {
    throw new UsageError(
      `${JSON.stringify(name)} is not a function name (a DNS label: 1-63 of a-z, 0-9 and "-")`,
      usage,
    );
  }
  return name;
}

/** A flag's value as a whole number ≥ `min`, or undefined when the flag is absent. */
export function intFlag(value: string | undefined, flag: string, usage: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(
      `--${flag} must be a whole number of at least ${min} (got ${JSON.stringify(value)})`,
      usage,
    );
  }
  return Number(value);
}

/** Tells an invocation id (a UUID) from a function name, for commands that take either. */
export const FUNCTION_NAME_OR_ID = {
  id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  name: FUNCTION_NAME,
} as const;
