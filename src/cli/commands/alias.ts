/** `kumo alias NAME [ALIAS --version N [--weight M=W]] [--delete]`: a function's aliases. */
import { COMMON_HELP, functionName, intFlag, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printText, printJson, println } from '../command.ts';
import { formatTable } from '../format.ts';
import { UsageError, write } from '../io.ts';
import { aliasListSchema, aliasSchema, deleteResultSchema } from '../responses.ts';

const USAGE = `Usage: kumo alias NAME                                     list NAME's aliases
       kumo alias NAME ALIAS --version N [--weight M=W]      point ALIAS at version N
       kumo alias NAME ALIAS --delete                        delete ALIAS

An alias is a name for a version: calls to /fn/NAME@ALIAS/… or http://NAME--ALIAS.localhost/
run the version it points at, and history records the alias and the version of each call. With
--weight M=W a share W (between 0 and 1) of the calls runs version M instead (a canary):
--version 3 --weight 4=0.1 sends 10% to version 4. Every update replaces the whole alias in one
atomic write: \`kumo alias NAME live --version 3\` is also the rollback of a canary.

Options:
  --version N       the version the alias serves
  --weight M=W      send the share W of calls to version M
  --description T   a note shown with the alias
  --delete          delete the alias

${COMMON_HELP}`;

/** `kumo alias`. */
export const aliasCommand: Command = {
  name: 'alias',
  synopsis: 'alias NAME [ALIAS --version N [--weight M=W]]',
  summary: "list, set or delete a function's aliases (weighted canaries)",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(
      args,
      {
        version: { type: 'string' },
        weight: { type: 'string' },
        description: { type: 'string' },
        delete: { type: 'boolean' },
      },
      USAGE,
    );
    if (values.help) return printText(io, USAGE);
    const [fnArg, alias, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, USAGE);
    const name = functionName(fnArg === undefined ? [] : [fnArg], USAGE);
    const client = clientFor(values, io);
    if (alias === undefined) {
      const { raw, data } = await client.json(aliasListSchema, 'GET', `/api/v1/functions/${name}/aliases`);
      if (values.json) return printJson(io, raw).then(() => 0);
      if (!data.aliases.length) return println(io, `${name} has no aliases`).then(() => 0);
      const rows = data.aliases.map((a) => [a.name, `v${a.version}`, routing(a)]);
      await write(io.stdout, formatTable(['ALIAS', 'VERSION', 'ROUTING'], rows));
      return 0;
    }
    const path = `/api/v1/functions/${name}/aliases/${encodeURIComponent(alias)}`;
    if (values.delete) {
      const { raw } = await client.json(deleteResultSchema, 'DELETE', path);
      if (values.json) await printJson(io, raw);
      else await println(io, `alias ${alias} of ${name} deleted`);
      return 0;
    }
    const version = intFlag(values.version, 'version', USAGE);
    if (version === undefined) throw new UsageError('--version N is required to set an alias', USAGE);
    const body = {
      version,
      canary: values.weight === undefined ? null : parseWeight(values.weight),
      ...(values.description === undefined ? {} : { description: values.description }),
    };
    const { raw, data } = await client.json(aliasSchema, 'PUT', path, { body });
    if (values.json) await printJson(io, raw);
    else await println(io, `${name}@${data.name} → ${routing(data)}`);
    return 0;
  },
};

/** `M=W` → { version: M, weight: W }. */
function parseWeight(text: string): { version: number; weight: number } {
  const m = /^(\d+)=([0-9]*\.?[0-9]+)$/.exec(text);
  if (!m)
    throw new UsageError(`--weight must be VERSION=SHARE like 4=0.1 (got ${JSON.stringify(text)})`, USAGE);
  return { version: Number(m[1]), weight: Number(m[2]) };
}

/** `v3` or `v3 90%, v4 10%`. */
function routing(a: {
  version: number;
  canary?: { version: number; weight: number } | null | undefined;
}): string {
  if (!a.canary) return `v${a.version}`;
  const pct = (w: number) => `${Math.round(w * 1000) / 10}%`;
  return `v${a.version} ${pct(1 - a.canary.weight)}, v${a.canary.version} ${pct(a.canary.weight)}`;
}

export { routing as aliasRouting };
