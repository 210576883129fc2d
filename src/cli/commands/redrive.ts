/** `kumo redrive ID`: queue a failed or dead async invocation again, under the same id. */
import { COMMON_HELP, parseCommand, positionals } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { acceptedSchema } from '../invocation-responses.ts';

const USAGE = `Usage: kumo redrive ID

Queue the failed or dead async (or cron) invocation ID again, with the function's retries anew.
It keeps its id, so the function can tell a redelivery by x-kumo-invocation-id; its attempts go on
counting. Find dead ones with \`kumo history --status dead\`.

${COMMON_HELP}`;

/** `kumo redrive`. */
export const redriveCommand: Command = {
  name: 'redrive',
  synopsis: 'redrive ID',
  summary: 'queue a failed or dead invocation again',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, {}, USAGE);
    if (values.help) return printText(io, USAGE);
    const [id = ''] = positionals(given, ['ID'], USAGE);
    const { raw, data } = await clientFor(values, io).json(
      acceptedSchema,
      'POST',
      `/api/v1/invocations/${encodeURIComponent(id)}/redrive`,
    );
    if (values.json) await printJson(io, raw);
    else
      await println(
        io,
        `${data.id} is ${data.status} again: \`kumo result ${data.id} --wait\` for its result`,
      );
    return 0;
  },
};
