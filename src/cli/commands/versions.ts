/** `kumo versions NAME`: a function's versions, oldest first, the active one starred. */
import { COMMON_HELP, functionName, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import { write } from '../io.ts';
import { versionListSchema } from '../responses.ts';

const USAGE = `Usage: kumo versions NAME

List the versions of NAME, oldest first: VERSION CREATED HASH ACTIVE ALIASES (* marks the
version serving NAME; ALIASES the aliases sending calls to it, with their share).

${COMMON_HELP}`;

/** `kumo versions`. */
export const versionsCommand: Command = {
  name: 'versions',
  synopsis: 'versions NAME',
  summary: "list a function's versions",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, {}, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = functionName(positionals, USAGE);
    const { raw, data } = await clientFor(values, io).json(
      versionListSchema,
      'GET',
      `/api/v1/functions/${name}/versions`,
    );
    if (values.json) {
      await printJson(io, raw);
      return 0;
    }
    const rows = data.versions.map((v) => [
      String(v.version),
      formatTime(v.createdAt),
      shortHash(v.hash),
      v.active ? '*' : '',
      (v.aliases ?? [])
        .map((a) => (a.weight === 1 ? a.name : `${a.name} ${Math.round(a.weight * 1000) / 10}%`))
        .join(', '),
    ]);
    // The ALIASES column appears once the function has an alias.
    const withAliases = rows.some((r) => r[4]);
    const header = ['VERSION', 'CREATED', 'HASH', 'ACTIVE', ...(withAliases ? ['ALIASES'] : [])];
    await write(io.stdout, formatTable(header, withAliases ? rows : rows.map((r) => r.slice(0, 4))));
    return 0;
  },
};

/** The first 12 hex characters of a content hash, without an algorithm prefix such as "sha256:". */
export function shortHash(hash: string): string {
  return hash.replace(/^[a-z0-9]+:/, '').slice(0, 12);
}
