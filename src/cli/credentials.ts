/**
 * Where the CLI finds its API key, in order (README "Access control"):
 *  1. KUMO_API_KEY;
 *  2. the login config, `$XDG_CONFIG_HOME/kumo/credentials.json` (else `~/.config/kumo/…`),
 *     written by `kumo login URL` with mode 0600, one key per server URL;
 *  3. for a server on this machine (a loopback URL), the first-start key file of the server's data
 *     directory: `$KUMO_DATA/admin.key`, else `./.kumo/admin.key` — what `kumo up` wrote there.
 * The login config also names the server `kumo login` last chose, used when neither --url nor
 * KUMO_URL says which.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CliError } from './io.ts';

/** The login config file's name in the config directory. */
export const CREDENTIALS_FILE = 'credentials.json';

/** The first-start key file's name in a server's data directory. */
export const ADMIN_KEY_FILE = 'admin.key';

const credentialsSchema = z.looseObject({
  current: z.string().optional(),
  servers: z
    .record(z.string(), z.looseObject({ key: z.string(), keyId: z.string().optional(), savedAt: z.number() }))
    .default({}),
});

/** The login config. */
export type Credentials = z.infer<typeof credentialsSchema>;

/** A key and where it came from (for `kumo login --status`-style messages and errors). */
export interface FoundKey {
  key: string;
  source: string;
}

/** The CLI's config directory. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'kumo');
}

/** The login config file. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), CREDENTIALS_FILE);
}

/** A server URL as the login config keys it: origin and path, no trailing slash. */
export function serverKey(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Reads the login config (empty when there is none). */
export function readCredentials(env: NodeJS.ProcessEnv): Credentials {
  const file = credentialsPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not JSON: fix it, or delete it and run kumo login again`);
  }
  const parsed = credentialsSchema.safeParse(data);
  if (!parsed.success)
    throw new CliError(`${file} is not a kumo login config: delete it and run kumo login again`);
  return parsed.data;
}

/** Writes the login config with mode 0600 in a 0700 directory, atomically. */
export async function writeCredentials(env: NodeJS.ProcessEnv, credentials: Credentials): Promise<string> {
  const file = credentialsPath(env);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** The server `kumo login` last chose, if any. */
export function loggedInServer(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readCredentials(env).current;
  } catch {
    // A broken config must not stop commands that name their server; the key lookup reports it.
    return undefined;
  }
}

/** The API key to send to `url`, or undefined when none is known. */
export function findKey(url: URL, env: NodeJS.ProcessEnv, cwd: string): FoundKey | undefined {
  if (env.KUMO_API_KEY) return { key: env.KUMO_API_KEY.trim(), source: 'KUMO_API_KEY' };
  const saved = readCredentials(env).servers[serverKey(url)];
  if (saved) return { key: saved.key, source: credentialsPath(env) };
  if (!isLoopback(url.hostname)) return undefined;
  const file = path.join(path.resolve(cwd, env.KUMO_DATA || '.kumo'), ADMIN_KEY_FILE);
  try {
    return { key: readFileSync(file, 'utf8').trim(), source: file };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES')
      throw new CliError(
        `cannot read ${file}: it belongs to the user who ran kumo up (use KUMO_API_KEY or kumo login)`,
      );
    throw err;
  }
}

/** A loopback host: the only place the data-directory key file is used, so it never leaves the machine. */
function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
