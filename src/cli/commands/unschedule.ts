/** `kumo unschedule NAME [ID]`: remove a schedule, or every `kumo schedule` one of NAME. */
import { COMMON_HELP, FUNCTION_NAME_OR_ID, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { UsageError } from '../io.ts';
import { scheduleRemovedSchema } from '../invocation-responses.ts';

const USAGE = `Usage: kumo unschedule NAME [ID]

Remove the schedule ID of NAME, or without ID every schedule added with \`kumo schedule\`.
Schedules from kumo.yaml stay until they are removed there and the function is deployed again.

${COMMON_HELP}`;

/** `kumo unschedule`. */
export const unscheduleCommand: Command = {
  name: 'unschedule',
  synopsis: 'unschedule NAME [ID]',
  summary: 'remove cron schedules',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, {}, USAGE);
    if (values.help) return printText(io, USAGE);
    const [name, id, extra] = positionals;
    if (name === undefined) throw new UsageError('missing NAME', USAGE);
    if (!FUNCTION_NAME_OR_ID.name.test(name))
      throw new UsageError(`${JSON.stringify(name)} is not a function name`, USAGE);
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, USAGE);
    const path = `/api/v1/functions/${name}/schedules${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;
    const { raw, data } = await clientFor(values, io).json(scheduleRemovedSchema, 'DELETE', path);
    if (values.json) await printJson(io, raw);
    else
      await println(
        io,
        data.removed.length
          ? `removed ${data.removed.join(', ')}`
          : `${name} had no schedules added with kumo schedule`,
      );
    return 0;
  },
};
