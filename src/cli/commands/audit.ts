/** `kumo audit`: who did what on the control plane, when, and how it ended (needs an admin key). */
import { COMMON_HELP, intFlag, parseCommand, positionals } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import { write } from '../io.ts';
import { auditListSchema } from '../access-responses.ts';

const SYNOPSIS = 'audit [--since 1h] [--key ID] [--function NAME] [--limit 100]';

const USAGE = `Usage: kumo ${SYNOPSIS}

Print the audit log, newest first: TIME KEY METHOD PATH STATUS OUTCOME. Every control-plane
request is recorded with the id and name of its key (never the key), including refused ones.

Options:
  --since 1h         only entries this recent ("10m", "2h", or epoch ms)
  --key ID           only requests made with this key id
  --function NAME    only requests about this function
  --limit N          at most N entries (default 100, max 10000)

${COMMON_HELP}`;

const OPTIONS = {
  since: { type: 'string' },
  key: { type: 'string' },
  function: { type: 'string' },
  limit: { type: 'string' },
} as const;

/** `kumo audit`. */
export const auditCommand: Command = {
  name: 'audit',
  synopsis: SYNOPSIS,
  summary: 'show the audit log of the control plane',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    positionals(given, [], USAGE);
    const limit = intFlag(values.limit, 'limit', USAGE);
    const query = {
      since: values.since,
      key: values.key,
      function: values.function,
      limit: limit === undefined ? undefined : String(limit),
    };
    const { raw, data } = await clientFor(values, io).json(auditListSchema, 'GET', '/api/v1/audit', {
      query,
    });
    if (values.json) {
      await printJson(io, raw);
      return 0;
    }
    if (data.entries.length === 0) {
      await println(io, 'no audit entries match');
      return 0;
    }
    const rows = data.entries.map((e) => [
      formatTime(e.time),
      e.keyId === null ? '-' : `${e.keyId}${e.keyName ? ` (${e.keyName})` : ''}`,
      e.method,
      e.path,
      String(e.status),
      e.outcome,
    ]);
    await write(io.stdout, formatTable(['TIME', 'KEY', 'METHOD', 'PATH', 'STATUS', 'OUTCOME'], rows));
    return 0;
  },
};
