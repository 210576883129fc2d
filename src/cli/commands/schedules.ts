/** `kumo schedules [NAME]`: the cron schedules and their next run times. */
import { COMMON_HELP, functionName, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import { write } from '../io.ts';
import { scheduleListSchema } from '../invocation-responses.ts';

const USAGE = `Usage: kumo schedules [NAME]

List the cron schedules (of every function, or of NAME):
ID FUNCTION CRON TZ OVERLAP CATCHUP SOURCE NEXT (the next run times, UTC).

${COMMON_HELP}`;

/** `kumo schedules`. */
export const schedulesCommand: Command = {
  name: 'schedules',
  synopsis: 'schedules [NAME]',
  summary: 'list cron schedules and their next runs',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, {}, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = positionals.length ? functionName(positionals, USAGE) : undefined;
    const { raw, data } = await clientFor(values, io).json(
      scheduleListSchema,
      'GET',
      name ? `/api/v1/functions/${name}/schedules` : '/api/v1/schedules',
    );
    if (values.json) {
      await printJson(io, raw);
      return 0;
    }
    if (!data.schedules.length) {
      await println(
        io,
        'no schedules: add one with `kumo schedule NAME --cron "0 * * * *"` or schedule: in kumo.yaml',
      );
      return 0;
    }
    await write(
      io.stdout,
      formatTable(
        ['ID', 'FUNCTION', 'CRON', 'TZ', 'OVERLAP', 'CATCHUP', 'SOURCE', 'NEXT'],
        data.schedules.map((s) => [
          s.id,
          s.function,
          s.cron,
          s.tz ?? 'UTC',
          s.overlap,
          s.catchup,
          s.source,
          s.next.slice(0, 2).map(formatTime).join(', '),
        ]),
      ),
    );
    return 0;
  },
};
