/** `kumo keys create|list|revoke`: API keys with scopes; a new key is printed once and never again. */
import { SCOPE_DOCS, SCOPES, isScope } from '../../core/index.ts';
import { COMMON_HELP, parseCommand, positionals } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import type { CliIO } from '../io.ts';
import { UsageError, write } from '../io.ts';
import { createdKeySchema, keyListSchema, revokedKeySchema } from '../access-responses.ts';

const SYNOPSIS = 'keys create --scope S [--name N] [--aws] | keys list | keys revoke ID';

const USAGE = `Usage: kumo keys create --scope SCOPE [--scope SCOPE]... [--name NAME] [--aws]
       kumo keys list
       kumo keys revoke ID

Manage the server's API keys (needs an admin key). A new key is printed once, alone on stdout,
and never again: the server keeps only its hash. Every request names its key id in the audit log.
--aws also makes an AWS access key id and secret access key for the key (the Lambda API, signed
with SigV4 by the AWS SDKs and CLI); they are printed once too, as AWS_ACCESS_KEY_ID=… and
AWS_SECRET_ACCESS_KEY=… lines, and act with the key's scopes.

Scopes (--scope is repeatable or comma-separated):
${SCOPES.map((s) => `  ${s.padEnd(8)} ${SCOPE_DOCS[s]}`).join('\n')}

${COMMON_HELP}`;

const OPTIONS = {
  scope: { type: 'string', multiple: true },
  name: { type: 'string' },
  aws: { type: 'boolean' },
} as const;

/** `kumo keys`. */
export const keysCommand: Command = {
  name: 'keys',
  synopsis: SYNOPSIS,
  summary: 'create, list and revoke API keys',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    const [action, ...rest] = given;
    const client = () => clientFor(values, io);
    switch (action) {
      case 'create': {
        positionals(rest, [], USAGE);
        const scopes = parseScopes(values.scope ?? []);
        const body = {
          scopes,
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(values.aws ? { aws: true } : {}),
        };
        const { raw, data } = await client().json(createdKeySchema, 'POST', '/api/v1/keys', { body });
        if (values.json) {
          await printJson(io, raw);
          return 0;
        }
        await write(
          io.stderr,
          `Created key ${data.id} (${data.name}) with scope ${data.scopes.join(', ')}. Copy it now: it is not shown again.\n`,
        );
        await println(io, data.key);
        if (data.awsAccessKeyId && data.awsSecretAccessKey)
          await println(
            io,
            `AWS_ACCESS_KEY_ID=${data.awsAccessKeyId}\nAWS_SECRET_ACCESS_KEY=${data.awsSecretAccessKey}`,
          );
        return 0;
      }
      case 'list': {
        positionals(rest, [], USAGE);
        const { raw, data } = await client().json(keyListSchema, 'GET', '/api/v1/keys');
        if (values.json) await printJson(io, raw);
        else await listKeys(io, data.keys);
        return 0;
      }
      case 'revoke': {
        const [id = ''] = positionals(rest, ['ID'], USAGE);
        const { raw, data } = await client().json(
          revokedKeySchema,
          'DELETE',
          `/api/v1/keys/${encodeURIComponent(id)}`,
        );
        if (values.json) await printJson(io, raw);
        else await println(io, `key ${data.revoked.id} (${data.revoked.name}) revoked`);
        return 0;
      }
      default:
        throw new UsageError(
          action === undefined ? 'missing create, list or revoke' : `unknown action '${action}'`,
          USAGE,
        );
    }
  },
};

/** `--scope deploy --scope read` or `--scope deploy,read`. */
function parseScopes(flags: readonly string[]): string[] {
  const scopes = [
    ...new Set(
      flags
        .flatMap((f) => f.split(','))
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (scopes.length === 0) throw new UsageError(`give the key a scope: --scope ${SCOPES.join('|')}`, USAGE);
  for (const s of scopes) {
    if (!isScope(s))
      throw new UsageError(`unknown scope ${JSON.stringify(s)} (scopes: ${SCOPES.join(', ')})`, USAGE);
  }
  return scopes;
}

async function listKeys(
  io: CliIO,
  keys: {
    id: string;
    name: string;
    scopes: string[];
    createdAt: number;
    lastUsedAt: number | null;
    revokedAt: number | null;
  }[],
): Promise<void> {
  const rows = keys.map((k) => [
    k.id,
    k.name,
    k.scopes.join(','),
    formatTime(k.createdAt),
    k.lastUsedAt === null ? '-' : formatTime(k.lastUsedAt),
    k.revokedAt === null ? 'active' : `revoked ${formatTime(k.revokedAt)}`,
  ]);
  await write(io.stdout, formatTable(['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'STATUS'], rows));
}
