/** `kumo stats [NAME]`: count, error rate, p50/p95/p99 and cold-start share, from the history. */
import { formatDuration } from '../../core/index.ts';
import { COMMON_HELP, functionName, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTable } from '../format.ts';
import { write } from '../io.ts';
import { statsSchema } from '../invocation-responses.ts';

const USAGE = `Usage: kumo stats [NAME] [--since 24h]

For each function (or NAME): invocations, error rate (failed and dead), latency p50/p95/p99 and the
share of cold starts, over the invocation history of the last 24h (or --since).

Options:
  --since 24h    the window ("10m", "2h", "7d") or epoch ms

${COMMON_HELP}`;

/** `kumo stats`. */
export const statsCommand: Command = {
  name: 'stats',
  synopsis: 'stats [NAME] [--since 24h]',
  summary: 'show counts, error rate, latency percentiles and cold starts',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, { since: { type: 'string' } }, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = positionals.length ? functionName(positionals, USAGE) : undefined;
    const { raw, data } = await clientFor(values, io).json(statsSchema, 'GET', '/api/v1/stats', {
      query: { function: name, since: values.since },
    });
    if (values.json) {
      await printJson(io, raw);
      return 0;
    }
    if (!data.functions.length) {
      await println(io, `no finished invocations${name ? ` of ${name}` : ''} in this window`);
      return 0;
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    await write(
      io.stdout,
      formatTable(
        ['FUNCTION', 'COUNT', 'ERRORS', 'P50', 'P95', 'P99', 'COLD'],
        data.functions.map((f) => [
          f.function,
          String(f.count),
          pct(f.errorRate),
          formatDuration(f.p50),
          formatDuration(f.p95),
          formatDuration(f.p99),
          pct(f.coldShare),
        ]),
      ),
    );
    return 0;
  },
};
