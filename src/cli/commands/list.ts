/** `kumo list`: the deployed functions. */
import { COMMON_HELP, parseCommand, positionals } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson, println } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import { write } from '../io.ts';
import { functionListSchema } from '../responses.ts';
import { aliasRouting } from './alias.ts';

const USAGE = `Usage: kumo list

List the deployed functions: NAME VERSION INSTANCES UPDATED URL, and ALIASES when some function
has one (ALIAS=VERSION, with a canary's shares).

${COMMON_HELP}`;

/** `kumo list`. */
export const listCommand: Command = {
  name: 'list',
  synopsis: 'list',
  summary: 'list the deployed functions',
  usage: USAGE,
  async run(args, io) {
    const parsed = parseCommand(args, {}, USAGE);
    if (parsed.values.help) return printText(io, USAGE);
    positionals(parsed.positionals, [], USAGE);
    const { raw, data } = await clientFor(parsed.values, io).json(
      functionListSchema,
      'GET',
      '/api/v1/functions',
    );
    if (parsed.values.json) {
      await printJson(io, raw);
      return 0;
    }
    if (data.sandbox && !data.sandbox.isolated) {
      await write(
        io.stderr,
        'WARNING: this server runs functions WITHOUT a sandbox (--insecure-no-sandbox): run `kumo doctor`\n',
      );
    }
    if (data.functions.length === 0) {
      await println(io, 'no functions deployed yet: deploy one with `kumo deploy PATH`');
      return 0;
    }
    const rows = data.functions.map((fn) => [
      fn.name,
      String(fn.activeVersion),
      String(fn.instances.total),
      formatTime(fn.updatedAt),
      fn.url,
      (fn.aliases ?? []).map((a) => `${a.name}=${aliasRouting(a)}`).join('; '),
    ]);
    // The ALIASES column appears once some function has an alias.
    const withAliases = rows.some((r) => r[5]);
    const header = ['NAME', 'VERSION', 'INSTANCES', 'UPDATED', 'URL', ...(withAliases ? ['ALIASES'] : [])];
    await write(io.stdout, formatTable(header, withAliases ? rows : rows.map((r) => r.slice(0, 5))));
    return 0;
  },
};
