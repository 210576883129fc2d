/** `kumo result ID [--wait]`: the result of an async invocation, the function's body on stdout. */
import { parseDuration } from '../../core/index.ts';
import { COMMON_HELP, parseCommand, positionals } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText } from '../command.ts';
import { CliError, UsageError, write } from '../io.ts';
import { printAnswer } from './invoke.ts';

const SYNOPSIS = 'result ID [--wait] [--timeout 60s] [-i]';

const USAGE = `Usage: kumo ${SYNOPSIS}

Print the result of the async invocation ID (from \`kumo invoke NAME --async\`): the function's
response body as it answered. Exits 0 on a 2xx answer, 1 on any other, and 3 when the invocation
has not finished yet (without --wait).

Options:
  -w, --wait         wait until the invocation has finished
  --timeout 60s      give up waiting after this long (default 60s; exit 3)
  -i, --include      print the status line and headers before the body

With --json, prints {"id", "status", "statusCode", "headers", "body"}.

${COMMON_HELP}`;

const OPTIONS = {
  wait: { type: 'boolean', short: 'w' },
  timeout: { type: 'string' },
  include: { type: 'boolean', short: 'i' },
} as const;

/** Exit code of "not finished yet". */
const PENDING_EXIT = 3;

/** `kumo result`. */
export const resultCommand: Command = {
  name: 'result',
  synopsis: SYNOPSIS,
  summary: 'print the result of an async invocation',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    const [id = ''] = positionals(given, ['ID'], USAGE);
    const timeoutMs = values.timeout === undefined ? 60_000 : parseDuration(values.timeout, 's');
    if (timeoutMs === undefined)
      throw new UsageError(
        `--timeout must be a duration like 30s or 5m (got ${JSON.stringify(values.timeout)})`,
        USAGE,
      );
    const client = clientFor(values, io);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const response = await client.send(client.url(`/invocations/${encodeURIComponent(id)}`));
      if (response.status === 404)
        throw new CliError(`no invocation ${id} (unknown, or removed by history retention)`, {
          code: 'invocation_not_found',
        });
      if (response.status !== 202) {
        return printAnswer(io, response, values, {
          id,
          status: response.headers.get('x-kumo-status'),
          statusCode: response.status,
        });
      }
      const pending = (await response.json()) as { status?: string; attempt?: number };
      if (!values.wait || Date.now() > until) {
        if (values.json)
          await printJson(io, { id, status: pending.status ?? 'queued', attempt: pending.attempt ?? 0 });
        else
          await write(
            io.stderr,
            `${id} is ${pending.status ?? 'queued'} (attempt ${pending.attempt ?? 0})${values.wait ? ': gave up waiting' : ''}\n`,
          );
        return PENDING_EXIT;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  },
};
