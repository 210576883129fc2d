/** `kumo rollback NAME [--to N]`: serve an earlier version again. */
import { COMMON_HELP, functionName, intFlag, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson, println } from '../command.ts';
import { rollbackResultSchema } from '../responses.ts';

const USAGE = `Usage: kumo rollback NAME [--to N]

Make an earlier version of NAME the active one (default: the version before the active one).

Options:
  --to N        the version to serve

${COMMON_HELP}`;

/** `kumo rollback`. */
export const rollbackCommand: Command = {
  name: 'rollback',
  synopsis: 'rollback NAME [--to N]',
  summary: 'serve an earlier version again',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, { to: { type: 'string' } }, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = functionName(positionals, USAGE);
    const to = intFlag(values.to, 'to', USAGE);
    const { raw, data } = await clientFor(values, io).json(
      rollbackResultSchema,
      'POST',
      `/api/v1/functions/${name}/rollback`,
      { body: to === undefined ? {} : { to } },
    );
    if (values.json) await printJson(io, raw);
    else await println(io, `${data.function} rolled back from version ${data.from} to ${data.to}`);
    return 0;
  },
};
