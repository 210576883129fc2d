/** `kumo invoke NAME`: one request through the data plane, the response streamed to stdout. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { COMMON_HELP, functionName, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson } from '../command.ts';
import type { CliIO } from '../io.ts';
import { CliError, UsageError, write } from '../io.ts';
import { addAsyncHeaders, ASYNC_INVOKE_HELP, ASYNC_INVOKE_OPTIONS, printAccepted } from './invoke-async.ts';

const SYNOPSIS =
  "invoke NAME [--data STRING | --data-file FILE | --data -] [--method M] [--path /x] [--header 'K: V']... [-i] [--async]";

const USAGE = `Usage: kumo ${SYNOPSIS}

Call the function NAME and print its response body as it arrives. The request is a POST
when it has data, else a GET. Exits 1 when the status is not 2xx (the body is still printed).

Options:
  -d, --data STRING     request body; "-" reads it from stdin
  --data-file FILE      request body read from FILE
  -X, --method M        HTTP method (default: POST with data, else GET)
  --path /x             path (and ?query) the function sees (default: /)
  -H, --header 'K: V'   request header (repeatable)
  -i, --include         print the status line and headers before the body
${ASYNC_INVOKE_HELP}

With --json, prints {"status", "headers", "body"} instead (the body as text).

${COMMON_HELP}`;

const OPTIONS = {
  data: { type: 'string', short: 'd' },
  'data-file': { type: 'string' },
  method: { type: 'string', short: 'X' },
  path: { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  include: { type: 'boolean', short: 'i' },
  ...ASYNC_INVOKE_OPTIONS,
} as const;

/** `kumo invoke`. */
export const invokeCommand: Command = {
  name: 'invoke',
  synopsis: SYNOPSIS,
  summary: 'call a function and print its response',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = functionName(positionals, USAGE);
    if (values.data !== undefined && values['data-file'] !== undefined) {
      throw new UsageError('give either --data or --data-file, not both', USAGE);
    }
    const headers = parseHeaders(values.header ?? [], USAGE);
    const body = await requestBody(values.data, values['data-file'], io);
    if (body !== undefined && !headers.has('content-type')) headers.set('content-type', body.type);
    const method = (values.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
    if ((method === 'GET' || method === 'HEAD') && body !== undefined) {
      throw new UsageError(
        `a ${method} request cannot carry --data; pass --method POST (or another method)`,
        USAGE,
      );
    }

    const client = clientFor(values, io);
    const fnPath = functionPath(values.path ?? '/', USAGE);
    const url = new URL(client.url(`/fn/${name}${fnPath.pathname}`).href + fnPath.search);
    addAsyncHeaders(values, headers, USAGE);
    const response = await client.send(url, { method, headers, ...(body ? { body: body.data } : {}) });
    if (values.async) return printAccepted(response, values.json === true, io);

    return printAnswer(io, response, values, { status: response.status });
  },
};

/** Parses `K: V` header flags. */
export function parseHeaders(flags: readonly string[], usage: string): Headers {
  const headers = new Headers();
  for (const flag of flags) {
    const colon = flag.indexOf(':');
    const key = flag.slice(0, colon).trim();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw new UsageError(`--header takes 'Name: value' (got ${JSON.stringify(flag)})`, usage);
    }
    headers.append(key, flag.slice(colon + 1).trim());
  }
  return headers;
}

/** The path and query the function sees, from --path. */
function functionPath(value: string, usage: string): { pathname: string; search: string } {
  const withSlash = value.startsWith('/') ? value : `/${value}`;
  const query = withSlash.indexOf('?');
  const pathname = query >= 0 ? withSlash.slice(0, query) : withSlash;
  if (pathname.split('/').some((segment) => segment === '..')) {
    throw new UsageError(`--path must not contain ".." (got ${JSON.stringify(value)})`, usage);
  }
  return { pathname, search: query >= 0 ? withSlash.slice(query) : '' };
}

/** The request body and its default content type, from --data, --data-file or stdin. */
async function requestBody(
  data: string | undefined,
  file: string | undefined,
  io: CliIO,
): Promise<{ data: Buffer; type: string } | undefined> {
  if (data === '-') return typed(await readAll(io.stdin ?? process.stdin), 'application/octet-stream');
  if (data !== undefined) return typed(Buffer.from(data), 'text/plain; charset=utf-8');
  if (file === undefined) return undefined;
  try {
    return typed(await readFile(path.resolve(io.cwd, file)), 'application/octet-stream');
  } catch (err) {
    throw new CliError(
      `cannot read --data-file ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A body that parses as JSON is sent as application/json, since that is what `--data '{"a":1}'` means. */
function typed(data: Buffer, fallback: string): { data: Buffer; type: string } {
  try {
    JSON.parse(data.toString('utf8'));
    return { data, type: 'application/json' };
  } catch {
    return { data, type: fallback };
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * Prints a function's answer: with --json, `fields` then its headers and body as JSON; else its
 * body, after its status and headers with --include. Returns the exit code (0 when it succeeded).
 */
export async function printAnswer(
  io: CliIO,
  response: Response,
  values: { json?: boolean | undefined; include?: boolean | undefined },
  fields: Record<string, unknown>,
): Promise<number> {
  if (values.json) {
    await printJson(io, {
      ...fields,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    });
  } else {
    if (values.include) await write(io.stdout, statusAndHeaders(response));
    let last: number | undefined;
    if (response.body)
      for await (const chunk of response.body) {
        if (chunk.length > 0) last = chunk[chunk.length - 1];
        await write(io.stdout, chunk);
      }
    // On a terminal the prompt must not run on after the body; piped output stays byte for byte.
    if (last !== undefined && last !== 0x0a && (io.stdout as { isTTY?: boolean }).isTTY)
      await write(io.stdout, '\n');
  }
  return response.ok ? 0 : 1;
}

/** `HTTP/1.1 200 OK`, the headers, and a blank line, as `curl -i` shows them. */
export function statusAndHeaders(response: Response): string {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd()];
  for (const [key, value] of response.headers) {
    if (key === 'set-cookie') continue;
    lines.push(`${key}: ${value}`);
  }
  for (const cookie of response.headers.getSetCookie()) lines.push(`set-cookie: ${cookie}`);
  return `${lines.join('\n')}\n\n`;
}
