/**
 * Installing a function's npm dependencies into its bundle, inside the build sandbox. npm is run
 * by the path kumo gives (never looked up on PATH, so the bundle cannot shadow it); install
 * scripts never run (`--ignore-scripts`). Whatever a tenant's `.npmrc` makes npm run instead runs
 * in the sandbox as the sandbox user, without the network unless `kumo up` allows a registry.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KumoError } from '../../core/index.ts';
import { BASE_ENV } from '../launch-record.ts';
import type { BuildTools } from '../runtime.ts';
import { runCommand } from '../run-command.ts';
import type { CommandResult } from '../run-command.ts';

/** Arguments of the install, fixed so builds are the same everywhere. */
export const NPM_INSTALL_ARGS = [
  'install',
  '--omit=dev',
  '--no-audit',
  '--no-fund',
  '--ignore-scripts',
  '--no-update-notifier',
];

/**
 * Variables of the server that npm may need to reach a registry (registry, proxy, CA, cache,
 * offline mode). A list of names rather than every npm_config_*: under `npm start` the server's
 * environment holds npm_config_prefix and friends, which would send the install elsewhere.
 */
const NPM_SETTINGS = [
  'registry',
  'cache',
  'cafile',
  'ca',
  'strict_ssl',
  'proxy',
  'https_proxy',
  'noproxy',
  'userconfig',
  'offline',
  'prefer_offline',
  'fetch_retries',
  'fetch_retry_mintimeout',
  'fetch_retry_maxtimeout',
  'fetch_timeout',
];
const NPM_PASSTHROUGH = new RegExp(
  `^(?:npm_config_(?:${NPM_SETTINGS.join('|')})|https?_proxy|no_proxy|node_extra_ca_certs|ssl_cert_file|tmpdir|lang)$`,
  'i',
);

/** The names of the runtime dependencies in `dir/package.json`, or none when there is no package.json. */
export async function dependencyNames(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(dir, 'package.json'), 'utf8');
  } catch {
    return [];
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (err) {
    throw new KumoError('build_failed', `package.json is not valid JSON: ${(err as Error).message}`, {
      log: `package.json: ${(err as Error).message}`,
    });
  }
  const deps =
    typeof pkg === 'object' && pkg !== null ? (pkg as { dependencies?: unknown }).dependencies : undefined;
  return typeof deps === 'object' && deps !== null ? Object.keys(deps) : [];
}

/** The environment npm runs with: PATH, HOME and a cache in the build's /tmp, plus npm and proxy settings given to the build. */
export function npmEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {
    PATH: BASE_ENV.PATH,
    HOME: env.HOME ?? '/tmp',
    npm_config_cache: `${env.HOME ?? '/tmp'}/.npm`,
  };
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && NPM_PASSTHROUGH.test(key)) out[key] = value;
  return out;
}

/** Runs `npm install` in `dir`; throws build_failed with the log when it fails. */
export async function installDependencies(
  dir: string,
  tools: BuildTools,
  log: (line: string) => void,
  signal: AbortSignal,
  collected: () => string,
): Promise<void> {
  log(`$ npm ${NPM_INSTALL_ARGS.join(' ')}`);
  let result: CommandResult;
  try {
    result = await runCommand(tools.node, [tools.npmCli, ...NPM_INSTALL_ARGS], {
      cwd: dir,
      env: npmEnvironment(process.env),
      log,
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new KumoError('build_failed', `could not run npm: ${(err as Error).message}`, { log: collected() });
  }
  if (result.code !== 0) {
    const how = result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new KumoError('build_failed', `npm install ${how}; see the build log`, { log: collected() });
  }
}
