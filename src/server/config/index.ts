/** Server configuration from flags, environment and defaults — validated once, at start. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ASYNC_OPTIONS, ASYNC_USAGE, parseAsyncConfig, type AsyncConfig } from './async.ts';
import { ACCESS_OPTIONS, ACCESS_USAGE, parseAccessConfig, type AccessConfig } from './access.ts';
import { BUILD_OPTIONS, BUILD_USAGE, parseBuildConfig, type BuildConfig } from './build.ts';
import { KumoError } from '../../core/index.ts';
import { parsePluginConfig, PLUGIN_OPTIONS, PLUGIN_USAGE, type PluginConfig } from './plugins.ts';
import { LIMITS_OPTIONS, LIMITS_USAGE, parseLimitsConfig, type LimitsConfig } from './limits.ts';
import { parseIdRange, type IdRange } from '../../drivers/index.ts';
import { parseSourcesConfig, SOURCES_OPTIONS, SOURCES_USAGE, type SourcesConfig } from './sources.ts';
import { CLUSTER_OPTIONS, CLUSTER_USAGE, parseClusterConfig, type ClusterConfig } from './cluster.ts';
import { parseStoreConfig, STORE_OPTIONS, STORE_USAGE, type StoreConfig } from './store.ts';

/** Everything the server reads at start. */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Where the state is kept: SQLite in dataDir, or PostgreSQL (store.ts). */
  store: StoreConfig;
  /** Functions answer at NAME.<baseDomain>. */
  baseDomain: string;
  /** Largest invocation body (bytes). */
  bodyLimit: number;
  /** Largest deploy upload (bytes). */
  uploadLimit: number;
  /** Run instances without a sandbox (never the default; logged at every start). */
  insecureNoSandbox: boolean;
  /** Host uids (and gids) for instances and builds when kumo is root: one each (default DEFAULT_ID_RANGE). */
  sandboxIds?: IdRange;
  /** The most stem cells (started, unassigned instances) kept at once; 0 turns them off. */
  stemCells: number;
  /** Deploy the folders under examples/ once listening. */
  deployExamples: boolean;
  /** How long SIGTERM waits for in-flight requests (ms). */
  shutdownGraceMs: number;
  /** Largest function response (bytes); a larger one is cut off (502 response_too_large when known up front). */
  responseLimit: number;
  /** Log output one invocation may write before its lines are dropped. */
  logLinesPerInvocation: number;
  logBytesPerInvocation: number;
  /** Async queue, callbacks, history and metrics (async-config.ts). */
  async: AsyncConfig;
  /** API key rate limit, request size limits, secrets master key (access-config.ts). */
  access: AccessConfig;
  /** Watched deploy folder and git repositories (sources-config.ts). */
  sources: SourcesConfig;
  /** Build limits, build network, version retention (build-config.ts). */
  build: BuildConfig;
  /** Plugin quotas, docs scan limit and queue (plugin-config.ts). */
  plugins: PluginConfig;
  /** Request timeouts, the body budget, deploy concurrency and bundle size (limits-config.ts). */
  limits: LimitsConfig;
  /** Node id, async visibility timeout, cron leader lease, SO_REUSEPORT (cluster.ts). */
  cluster: ClusterConfig;
}

const MB = 1024 * 1024;

/** Usage of `kumo up`. */
export const UP_USAGE = `Usage: kumo up [options]

Starts the kumo server (control API and functions) in the foreground.

Options:
  --port N                 port to listen on (env KUMO_PORT, default 8080)
  --host ADDR              address to bind (env KUMO_HOST, default 127.0.0.1)
  --data DIR               data directory (env KUMO_DATA, default ./.kumo)
${STORE_USAGE}${CLUSTER_USAGE}  --domain NAME            base domain: functions answer at NAME.<domain> (env KUMO_DOMAIN, default localhost)
  --body-limit MB          largest invocation body (default 6)
  --upload-limit MB        largest deploy upload (default 50)
  --response-limit MB      largest function response (default 20)
  --insecure-no-sandbox    run functions without isolation (logged at every start)
  --sandbox-ids BASE:COUNT host uids/gids for instances and builds, one each (env KUMO_SANDBOX_IDS,
                           default 1879048192:65536)
  --stem-cells N           started, sandboxed, unassigned instances kept for cold starts, at
                           most N at once (env KUMO_STEM_CELLS, default 4; 0 turns them off)
  --deploy-examples        deploy the example functions once listening
${LIMITS_USAGE}${BUILD_USAGE}${ASYNC_USAGE}${PLUGIN_USAGE}${ACCESS_USAGE}${SOURCES_USAGE}  -h, --help               show this help
`;

/** Parses `kumo up` arguments over the environment. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv, cwd: string): ServerConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      domain: { type: 'string' },
      'body-limit': { type: 'string' },
      'upload-limit': { type: 'string' },
      'response-limit': { type: 'string' },
      'insecure-no-sandbox': { type: 'boolean', default: false },
      'sandbox-ids': { type: 'string' },
      'deploy-examples': { type: 'boolean', default: false },
      'stem-cells': { type: 'string' },
      ...STORE_OPTIONS,
      ...CLUSTER_OPTIONS,
      ...ASYNC_OPTIONS,
      ...ACCESS_OPTIONS,
      ...SOURCES_OPTIONS,
      ...BUILD_OPTIONS,
      ...PLUGIN_OPTIONS,
      ...LIMITS_OPTIONS,
    },
    strict: true,
  });
  const port = Number(values.port ?? env.KUMO_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new KumoError('bad_request', `--port must be 0-65535 (got ${values.port ?? env.KUMO_PORT})`);
  const sizeMb = (flag: string, text: string | undefined, def: number) => {
    const n = Number(text ?? def);
    if (!Number.isFinite(n) || n <= 0)
      throw new KumoError('bad_request', `--${flag} must be a positive number of MB (got ${text})`);
    return Math.round(n * MB);
  };
  const dataDir = path.resolve(cwd, values.data ?? env.KUMO_DATA ?? '.kumo');
  const ids = values['sandbox-ids'] ?? env.KUMO_SANDBOX_IDS;
  let sandboxIds: IdRange | undefined;
  try {
    sandboxIds = ids === undefined ? undefined : parseIdRange(ids);
  } catch (err) {
    throw new KumoError('bad_request', `--sandbox-ids: ${(err as Error).message}`);
  }
  const cellsText = values['stem-cells'] ?? env.KUMO_STEM_CELLS ?? '4';
  const stemCells = Number(cellsText);
  if (!Number.isInteger(stemCells) || stemCells < 0 || stemCells > 256)
    throw new KumoError(
      'bad_request',
      `--stem-cells must be a whole number from 0 to 256 (got ${cellsText})`,
    );
  return {
    port,
    host: values.host ?? env.KUMO_HOST ?? '127.0.0.1',
    dataDir,
    store: parseStoreConfig(values, env),
    baseDomain: values.domain ?? env.KUMO_DOMAIN ?? 'localhost',
    bodyLimit: sizeMb('body-limit', values['body-limit'], 6),
    uploadLimit: sizeMb('upload-limit', values['upload-limit'], 50),
    insecureNoSandbox: values['insecure-no-sandbox'] ?? false,
    ...(sandboxIds ? { sandboxIds } : {}),
    deployExamples: values['deploy-examples'] ?? false,
    stemCells,
    shutdownGraceMs: 10_000,
    responseLimit: sizeMb('response-limit', values['response-limit'], 20),
    logLinesPerInvocation: 2000,
    logBytesPerInvocation: 1024 * 1024,
    async: parseAsyncConfig(values, env),
    access: parseAccessConfig(values, env, dataDir, cwd),
    sources: parseSourcesConfig(values, env, cwd),
    build: parseBuildConfig(values, env),
    plugins: parsePluginConfig(values),
    limits: parseLimitsConfig(values),
    cluster: parseClusterConfig(values, env),
  };
}
