/** `kumo delete NAME`: remove a function with its versions and logs. */
import { createInterface } from 'node:readline/promises';
import { COMMON_HELP, functionName, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson, println } from '../command.ts';
import type { CliIO } from '../io.ts';
import { CliError } from '../io.ts';
import { deleteResultSchema } from '../responses.ts';

const USAGE = `Usage: kumo delete NAME [--yes]

Delete NAME: stop its instances and remove its versions and logs. Asks first when
stdin is a terminal, unless --yes.

Options:
  -y, --yes     do not ask

${COMMON_HELP}`;

/** `kumo delete`. */
export const deleteCommand: Command = {
  name: 'delete',
  synopsis: 'delete NAME [--yes]',
  summary: 'delete a function, its versions and logs',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, { yes: { type: 'boolean', short: 'y' } }, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = functionName(positionals, USAGE);
    const client = clientFor(values, io);
    if (!values.yes && !(await confirm(io, `Delete ${name} with all its versions and logs? [y/N] `))) {
      throw new CliError(`${name} was not deleted`);
    }
    const { raw, data } = await client.json(deleteResultSchema, 'DELETE', `/api/v1/functions/${name}`);
    if (values.json) await printJson(io, raw);
    else await println(io, `${data.deleted} deleted`);
    return 0;
  },
};

/** Asks on stderr when stdin is a terminal; scripts and pipes are not asked (true). */
async function confirm(io: CliIO, question: string): Promise<boolean> {
  const stdin = io.stdin ?? process.stdin;
  if (stdin.isTTY !== true) return true;
  const rl = createInterface({ input: stdin, output: io.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
