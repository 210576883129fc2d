/**
 * `kumo secrets set|list|unset NAME …`: secrets of a function, exposed to it as environment
 * variables. A value is read from stdin or a file, never from an argument, and never printed.
 */
import { SECRET_NAME } from '../../core/index.ts';
import { COMMON_HELP, functionName, parseCommand, positionals } from '../args.ts';
import { readJson, responseError, validate } from '../client.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import { UsageError, write } from '../io.ts';
import { secretDeletedSchema, secretListSchema, secretSetSchema } from '../access-responses.ts';
import { readSecretInput } from '../secret-input.ts';

const SYNOPSIS = 'secrets set NAME KEY [--from-file FILE] | secrets list NAME | secrets unset NAME KEY';

const USAGE = `Usage: kumo secrets set NAME KEY [--from-file FILE]   (the value on stdin)
       kumo secrets list NAME
       kumo secrets unset NAME KEY

Secrets of the function NAME, given to it as the environment variable KEY (a secret wins over a
kumo.yaml variable of the same name). The server keeps them encrypted (AES-256-GCM) and never
shows a value again: \`list\` prints names only. Setting or unsetting one replaces the function's
idle instances, so the next request sees the change. Needs a deploy (or admin) key.

The value comes from --from-file, else stdin: \`kumo secrets set api DB_PASSWORD < pw.txt\`, or
typed at a hidden prompt on a terminal. One trailing newline is dropped.

Options:
  --from-file FILE   read the value from FILE

${COMMON_HELP}`;

/** `kumo secrets`. */
export const secretsCommand: Command = {
  name: 'secrets',
  synopsis: SYNOPSIS,
  summary: "set, list and unset a function's secrets",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, { 'from-file': { type: 'string' } }, USAGE);
    if (values.help) return printText(io, USAGE);
    const [action, ...rest] = given;
    const client = clientFor(values, io);
    switch (action) {
      case 'set': {
        const [fn, key] = nameAndKey(rest);
        const value = await readSecretInput(io, {
          file: values['from-file'],
          prompt: `Value of ${key} for ${fn} (hidden): `,
        });
        if (value.length === 0)
          throw new UsageError(`the value of ${key} is empty: give it on stdin or with --from-file`, USAGE);
        const what = `PUT /api/v1/functions/${fn}/secrets/${key}`;
        const response = await client.send(client.url(`/api/v1/functions/${fn}/secrets/${key}`), {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
          body: value,
        });
        value.fill(0);
        if (!response.ok) throw await responseError(response);
        const raw = await readJson(response, what);
        const data = validate(secretSetSchema, raw, what);
        if (values.json) await printJson(io, raw);
        else
          await println(io, `secret ${data.secret} of ${data.function} ${data.created ? 'set' : 'updated'}`);
        return 0;
      }
      case 'list': {
        const fn = functionName(rest, USAGE);
        const { raw, data } = await client.json(secretListSchema, 'GET', `/api/v1/functions/${fn}/secrets`);
        if (values.json) await printJson(io, raw);
        else if (data.secrets.length === 0) await println(io, `${fn} has no secrets`);
        else {
          const rows = data.secrets.map((s) => [s.name, formatTime(s.updatedAt)]);
          await write(io.stdout, formatTable(['NAME', 'UPDATED'], rows));
        }
        return 0;
      }
      case 'unset': {
        const [fn, key] = nameAndKey(rest);
        const { raw, data } = await client.json(
          secretDeletedSchema,
          'DELETE',
          `/api/v1/functions/${fn}/secrets/${key}`,
        );
        if (values.json) await printJson(io, raw);
        else await println(io, `secret ${data.deleted} of ${data.function} removed`);
        return 0;
      }
      default:
        throw new UsageError(
          action === undefined ? 'missing set, list or unset' : `unknown action '${action}'`,
          USAGE,
        );
    }
  },
};

/** NAME (a function) and KEY (a variable name). */
function nameAndKey(given: readonly string[]): [string, string] {
  const [fn = '', key = ''] = positionals(given, ['NAME', 'KEY'], USAGE);
  functionName([fn], USAGE);
  if (!SECRET_NAME.test(key)) {
    throw new UsageError(
      `${JSON.stringify(key)} is not a secret name: an environment variable name, not starting with KUMO_`,
      USAGE,
    );
  }
  return [fn, key];
}
