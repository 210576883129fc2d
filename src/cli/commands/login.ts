/** `kumo login URL` and `kumo logout [URL]`: keep an API key per server in the user's config directory (0600). */
import { COMMON_HELP, parseCommand, positionals } from '../args.ts';
import { ApiClient, serverUrl } from '../client.ts';
import type { Command } from '../command.ts';
import { printJson, printText, println } from '../command.ts';
import { credentialsPath, readCredentials, serverKey, writeCredentials } from '../credentials.ts';
import { CliError } from '../io.ts';
import { keyInfoSchema } from '../access-responses.ts';
import { readSecretInput } from '../secret-input.ts';

const LOGIN_USAGE = `Usage: kumo login URL [--key KEY]

Check an API key against the kumo server at URL and save it for that server in
$XDG_CONFIG_HOME/kumo/credentials.json (else ~/.config/kumo/), readable only by you. URL becomes
the default server of later commands (unless --url or KUMO_URL say otherwise).

The key comes from --key, else KUMO_API_KEY, else stdin (a hidden prompt on a terminal);
prefer stdin: a --key argument stays in your shell history.

${COMMON_HELP}`;

const LOGOUT_USAGE = `Usage: kumo logout [URL]

Forget the API key saved for URL (default: the server of the last kumo login).

${COMMON_HELP}`;

/** `kumo login`. */
export const loginCommand: Command = {
  name: 'login',
  synopsis: 'login URL [--key KEY]',
  summary: 'save an API key for a server (mode 0600)',
  usage: LOGIN_USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, { key: { type: 'string' } }, LOGIN_USAGE);
    if (values.help) return printText(io, LOGIN_USAGE);
    const [raw = ''] = positionals(given, ['URL'], LOGIN_USAGE);
    const url = serverUrl(raw, io.env);
    const key =
      values.key ??
      (
        io.env.KUMO_API_KEY ||
        (await readSecretInput(io, { prompt: `API key for ${url.origin}: ` })).toString('utf8')
      ).trim();
    if (!key) throw new CliError('no API key given: pass --key, set KUMO_API_KEY, or type it at the prompt');
    const { data: who } = await new ApiClient(url, key).json(keyInfoSchema, 'GET', '/api/v1/whoami');
    const credentials = readCredentials(io.env);
    credentials.servers[serverKey(url)] = { key, keyId: who.id, savedAt: Date.now() };
    credentials.current = serverKey(url);
    const file = await writeCredentials(io.env, credentials);
    if (values.json) await printJson(io, { server: serverKey(url), key: who, file });
    else
      await println(
        io,
        `logged in to ${serverKey(url)} with key ${who.id} (${who.name}, scope ${who.scopes.join(', ')}); saved in ${file}`,
      );
    return 0;
  },
};

/** `kumo logout`. */
export const logoutCommand: Command = {
  name: 'logout',
  synopsis: 'logout [URL]',
  summary: 'forget the API key saved for a server',
  usage: LOGOUT_USAGE,
  async run(args, io) {
    const { values, positionals: given } = parseCommand(args, {}, LOGOUT_USAGE);
    if (values.help) return printText(io, LOGOUT_USAGE);
    if (given.length > 1) positionals(given, ['URL'], LOGOUT_USAGE);
    const credentials = readCredentials(io.env);
    const target = given[0] !== undefined ? serverKey(serverUrl(given[0], io.env)) : credentials.current;
    if (target === undefined || !credentials.servers[target]) {
      throw new CliError(
        `no API key is saved${target ? ` for ${target}` : ''} (in ${credentialsPath(io.env)})`,
      );
    }
    credentials.servers = Object.fromEntries(
      Object.entries(credentials.servers).filter(([url]) => url !== target),
    );
    if (credentials.current === target) delete credentials.current;
    await writeCredentials(io.env, credentials);
    await println(io, `logged out of ${target}`);
    return 0;
  },
};
