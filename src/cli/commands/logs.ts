/** `kumo logs NAME`: a function's captured output, optionally followed live. */
import { COMMON_HELP, functionName, intFlag, parseCommand } from '../args.ts';
import { responseError, validate } from '../client.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson } from '../command.ts';
import { write } from '../io.ts';
import { readNdjson } from '../ndjson.ts';
import type { LogLineOut } from '../responses.ts';
import { logLineSchema, logListSchema } from '../responses.ts';

const SYNOPSIS = 'logs NAME [--follow|-f] [--since 10m] [--limit N]';

const USAGE = `Usage: kumo ${SYNOPSIS}

Print the output lines of NAME, oldest first, as TIME [vVERSION INVOCATION] STREAM: LINE.

Options:
  -f, --follow      keep printing new lines as they are written (Ctrl-C to stop)
  --since 10m       only lines from this long ago ("10m", "2h") or since epoch ms
  --limit N         at most N lines (server default 200, max 10000)

With --json and --follow, prints one JSON object per line.

${COMMON_HELP}`;

const OPTIONS = {
  follow: { type: 'boolean', short: 'f' },
  since: { type: 'string' },
  limit: { type: 'string' },
} as const;

/** `kumo logs`. */
export const logsCommand: Command = {
  name: 'logs',
  synopsis: SYNOPSIS,
  summary: "print a function's output",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = functionName(positionals, USAGE);
    const limit = intFlag(values.limit, 'limit', USAGE);
    const client = clientFor(values, io);
    const pathname = `/api/v1/functions/${name}/logs`;
    const query = { since: values.since, limit: limit === undefined ? undefined : String(limit) };

    if (!values.follow) {
      const { raw, data } = await client.json(logListSchema, 'GET', pathname, { query });
      if (values.json) await printJson(io, raw);
      else for (const line of data.lines) await write(io.stdout, formatLogLine(line));
      return 0;
    }

    const response = await client.send(client.url(pathname, { ...query, follow: '1' }), {
      headers: { accept: 'application/x-ndjson' },
    });
    if (!response.ok) throw await responseError(response);
    for await (const value of readNdjson(response.body)) {
      const line = validate(logLineSchema, value, `GET ${pathname}`);
      await write(io.stdout, values.json ? `${JSON.stringify(value)}\n` : formatLogLine(line));
    }
    return 0;
  },
};

/** `2025-11-24T16:00:00.123Z [v2 1a2b3c4d] stdout: hello`; lines outside an invocation show "-". */
export function formatLogLine(line: LogLineOut): string {
  const invocation = line.invocationId === null ? '-' : line.invocationId.slice(0, 8);
  return `${new Date(line.time).toISOString()} [v${line.version} ${invocation}] ${line.stream}: ${line.line}\n`;
}
