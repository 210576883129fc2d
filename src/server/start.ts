/**
 * Starting a server: every part built once, in phases — the host (sandbox, socket folders), the
 * stores and the function state, the instances (plugins, pool, access), deploys, the data plane
 * (invoker, gateway, queue, control API, the route table), then the listener — and one graceful
 * stop that closes them in reverse. Nothing else creates long-lived objects.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AliasService, controlRoutes, DeployService } from '../api/index.ts';
import { BuildShare, StoreHealth } from '../cluster/index.ts';
import { Builder, BuildProxy, BuildStore, buildToolEnv } from '../build/index.ts';
import { KumoError, LogThrottle, type FunctionSpec, type ServerLog } from '../core/index.ts';
import { ProcessDriver, sweepTempDirs, type Driver } from '../drivers/index.ts';
import {
  ApiRouteTable,
  apiRouteRoutes,
  compatRoutes,
  Gateway,
  gatewayRoutes,
  Invoker,
} from '../gateway/index.ts';
import { BodyBudget } from '../http/index.ts';
import { lambdaRoutes } from '../lambda/index.ts';
import {
  DOCS_SCAN_WORKER,
  DocsScanner,
  docsPlugin,
  kvPlugin,
  PluginHost,
  PluginRegistry,
} from '../plugins/index.ts';
import { HostCpu, InstancePool } from '../pool/index.ts';
import { nodeRuntime, shimBundle } from '../runtimes/index.ts';
import { ActiveVersions, openPostgresStores, openSqliteStores, type Stores } from '../store/index.ts';
import {
  createServerLog,
  InstanceTimeline,
  InvocationTracker,
  LogSink,
  OutputBudget,
} from '../telemetry/index.ts';
import { buildConsoleAssets, ConsoleHandler } from '../ui/index.ts';
import { createAccessParts } from './access.ts';
import { createAsyncParts } from './async.ts';
import { followCluster } from './cluster.ts';
import type { ServerConfig } from './config/index.ts';
import { createSandbox, makeRunDir, TEMP_ROOTS } from './host.ts';
import {
  createInstanceFactory,
  logPoolEvent,
  stockStemCells,
  type InstanceFactoryDeps,
} from './instance-factory.ts';
import { StemCells } from './stem-cells.ts';
import { listen } from './listener.ts';
import { createRoutes } from './routes.ts';
import { createSourceParts } from './sources.ts';

/** A running server. */
export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Graceful stop: no new connections, in-flight requests finish (bounded), instances stop. */
  close(): Promise<void>;
}

/** kumo's version, as package.json says. */
const KUMO_VERSION = '0.1.0';

/** What every phase may use: the config, the log, and where the server listens (known once it does). */
interface Context {
  config: ServerConfig;
  log: ServerLog;
  /** The listening port (config.port until the listener knows the real one). */
  port: { value: number };
  /** A function's URLs. */
  urls: (name: string) => { url: string; path: string };
  /** Tells the other nodes of a shared store that a function changed (set once the link exists). */
  cluster: { announce: (fn: string) => void };
}

/** Builds every part and starts listening. */
export async function startServer(
  config: ServerConfig,
  log: ServerLog = createServerLog(),
): Promise<RunningServer> {
  const port = { value: config.port };
  const ctx: Context = {
    config,
    log,
    port,
    urls: (name) => functionUrls(config, port.value, name),
    cluster: { announce: () => {} },
  };
  const host = await prepareHost(ctx);
  const state = await openState(ctx, host.driver);
  const instances = await createInstances(ctx, host, state);
  const deploys = await createDeploys(ctx, host.driver, state, instances.pool);
  const { share } = state;
  const follow = followCluster({
    cluster: state.stores.cluster,
    versions: state.versions,
    pool: instances.pool,
    log,
    since: state.changesSeen,
    reload: () => state.apiRoutes.refresh(),
    sweepBuilds: () => state.builds.sweep(),
    collectBuilds: share ? () => share.collect() : undefined,
  });
  ctx.cluster.announce = follow.announce;
  const plane = createDataPlane(ctx, host, state, instances, deploys, follow.announce);
  // Functions with min instances come back warm after a restart; the rest start on first request.
  for (const name of state.versions.names()) {
    const active = state.versions.get(name);
    if (active && active.spec.instances.min > 0) instances.pool.activate(active);
  }
  await instances.access.firstStart();
  await instances.stockCells();
  const listener = await listen({
    config,
    log,
    throttle: plane.throttle,
    maxHeaderSize: instances.access.maxHeaderSize,
    handle: (req, res) => plane.routes.handle(req, res),
  });
  port.value = listener.port;
  log.info('kumo is listening', {
    url: listener.url,
    node: config.cluster.nodeId,
    console: `${listener.url}/ui`,
    data: config.dataDir,
    domain: config.baseDomain,
    runtime: nodeRuntime.name,
    sandbox: host.sandbox.sandbox.name,
    run: host.runDir,
  });
  state.health.start();
  await follow.start();
  await plane.asyncParts.start();
  await deploys.sources.start();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await listener.drain(config.shutdownGraceMs);
      await follow.stop();
      await deploys.sources.close();
      await plane.asyncParts.stop(config.shutdownGraceMs);
      await instances.pool.close();
      await instances.close();
      await state.logSink.close();
      await plane.asyncParts.close();
      instances.access.close();
      state.health.stop();
      await state.stores.close();
      await host.sandbox.close();
      await deploys.buildProxy?.close();
      await rm(host.runDir, { recursive: true, force: true });
      log.info('kumo stopped');
    })());
  return { url: listener.url, port: listener.port, close };
}

/** A function's URLs on this server. */
function functionUrls(config: ServerConfig, port: number, name: string): { url: string; path: string } {
  const at = port === 80 ? '' : `:${port}`;
  return { url: `http://${name}.${config.baseDomain}${at}`, path: `http://localhost${at}/fn/${name}` };
}

/** The data directory, leftovers of servers that died, the sandbox, the socket folders, the driver. */
async function prepareHost(ctx: Context) {
  const { config, log } = ctx;
  // 0711: the sandbox's unprivileged user must pass through to the builds, but not list them.
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  const swept = await sweepTempDirs(TEMP_ROOTS);
  if (swept)
    log.info('removed the temporary folders of kumo servers that did not stop cleanly', { count: swept });
  const sandbox = await createSandbox(config, log);
  const runDir = await makeRunDir();
  const driver: Driver = new ProcessDriver(sandbox.sandbox);
  return { sandbox, runDir, driver };
}
type Host = Awaited<ReturnType<typeof prepareHost>>;

/**
 * The stores (one backend, store/index.ts), the build folders (shared by content hash when other
 * nodes use the same store), the active versions, the function logs and output bounds.
 */
async function openState(ctx: Context, driver: Driver) {
  const { config } = ctx;
  const backend = await openBackend(ctx);
  const { stores } = backend;
  const builds = new BuildStore({
    root: path.join(config.dataDir, 'builds'),
    bundlesDir: path.join(config.dataDir, 'bundles'),
    forget: (p) => driver.forget(p),
    buildInUse: (dir) => stores.functions.buildInUse(dir),
    bundleInUse: (hash) => stores.functions.bundleInUse(hash),
    hashesInUse: (hashes) => stores.functions.hashesInUse(hashes),
  });
  const share = stores.cluster.shared ? new BuildShare({ cluster: stores.cluster, builds }) : undefined;
  const versions = new ActiveVersions(
    stores.functions,
    stores.aliases,
    share ? (hash) => share.locate(hash) : undefined,
  );
  // API routes (SAM Api/HttpApi events), matched in memory; a function's change may drop its routes.
  const apiRoutes = new ApiRouteTable(() => stores.apiRoutes.listApiRoutes());
  const health = new StoreHealth(stores.cluster, ctx.log);
  const storeThrottle = new LogThrottle(ctx.log);
  let changesSeen = 0;
  try {
    // Read before the versions: a change made meanwhile is followed again rather than missed.
    if (share) changesSeen = await stores.cluster.lastChange();
    await Promise.all([versions.load(), apiRoutes.refresh()]);
  } catch (err) {
    await stores.close();
    throw err;
  }
  versions.onChange(() => {
    apiRoutes
      .refresh()
      .catch((err: unknown) => ctx.log.error('could not read the API routes', { error: String(err) }));
  });
  return {
    stores,
    builds,
    /** Builds published for (and fetched from) the other nodes; undefined on SQLite. */
    share,
    /** The change feed's position when the versions were read. */
    changesSeen,
    /** The SQLite file (made owner-only, scanned by the docs worker), or undefined on PostgreSQL. */
    dbFile: backend.dbFile,
    versions,
    apiRoutes,
    health,
    logSink: new LogSink(stores.functions, {
      keeps: (fn) => versions.get(fn) !== undefined,
      onError: (err, held, dropped) => {
        storeThrottle.warn('logs', 'logs: the store cannot take function log lines; holding them', {
          held,
          dropped,
          error: String(err),
        });
      },
    }),
    tracker: new InvocationTracker(),
    outputBudget: new OutputBudget(config.logLinesPerInvocation, config.logBytesPerInvocation),
    // Instance counts over time, for the console's charts (the pool knows only the present).
    instanceTimeline: new InstanceTimeline(),
  };
}
type State = Awaited<ReturnType<typeof openState>>;

/**
 * The one place a backend is chosen: SQLite in the data folder, or PostgreSQL at --store (its
 * client is loaded only then). A PostgreSQL server that cannot be reached fails the start with
 * store_unavailable, naming host, port and database, never the password.
 */
async function openBackend(ctx: Context): Promise<{ stores: Stores; dbFile: string | undefined }> {
  const { config, log } = ctx;
  if (config.store.kind === 'sqlite') {
    const dbFile = path.join(config.dataDir, 'kumo.db');
    return { stores: openSqliteStores(dbFile), dbFile };
  }
  try {
    const stores = await openPostgresStores(config.store.url);
    log.info('store: PostgreSQL', { database: config.store.display });
    return { stores, dbFile: undefined };
  } catch (err) {
    throw new KumoError('store_unavailable', (err as Error).message);
  }
}

/** Plugins and their host channels, the instance pool, and access (keys, secrets, the front door). */
async function createInstances(ctx: Context, host: Host, state: State) {
  const { config, log } = ctx;
  const { stores, versions } = state;
  // docs queries: on SQLite they scan in a worker thread (the scan is CPU on the event loop
  // otherwise); on PostgreSQL through the store's cursor (the scan is I/O). Either way each
  // function's queries take their turn.
  const docsScanner = new DocsScanner({
    source: state.dbFile === undefined ? { store: stores.plugins } : { dbFile: state.dbFile },
    scanLimit: config.plugins.scanLimit,
    queuePerFunction: config.plugins.queuePerFunction,
    log,
    // Plain JavaScript: a worker loading TypeScript would carry Node's type stripper in its memory.
    workerUrl: pathToFileURL(shimBundle(fileURLToPath(DOCS_SCAN_WORKER))),
  });
  const exists = (name: string) => versions.get(name) !== undefined;
  // Every instance gets a host channel: plugins for functions that list them, limit reports for all.
  const plugins = new PluginHost({
    registry: new PluginRegistry(
      [kvPlugin(stores.plugins), docsPlugin(stores.plugins, docsScanner)],
      config.plugins.quotas,
      exists,
    ),
    log,
  });
  // A deleted function takes its kv keys and documents with it: a later one of that name starts empty.
  const unfollowPlugins = versions.onChange((name) => {
    if (versions.get(name)) return;
    stores.plugins.deleteFunctionData(name).catch((err: unknown) =>
      log.error('plugins: removing the data of a deleted function failed', {
        function: name,
        error: String(err),
      }),
    );
  });
  // Its own reader, read at each take and 100 ms later: the window is the refill's delay.
  const hostCpu = new HostCpu(50);
  const stemCells = new StemCells({
    driver: host.driver,
    runDir: host.runDir,
    max: config.stemCells,
    log,
    spareCores: () => hostCpu.spareCores(),
  });
  const factoryDeps: InstanceFactoryDeps = {
    runDir: host.runDir,
    driver: host.driver,
    stemCells,
    log,
    plugins,
    tracker: state.tracker,
    outputBudget: state.outputBudget,
    logSink: state.logSink,
    secrets: (fn: string, spec: FunctionSpec) => access.instanceSecrets(fn, spec),
  };
  const pool: InstancePool = new InstancePool({
    factory: createInstanceFactory(factoryDeps),
    // Versions an alias names stay warm beside the active one.
    pinned: (fn) => versions.pinned(fn),
    onEvent: (e) => {
      logPoolEvent(log, e);
      const fn = e.target.functionName;
      state.instanceTimeline.record(fn, pool.stats(fn).total, Date.now());
    },
  });
  // An alias moved off a version (or was deleted): that version's instances drain and stop.
  const unfollowAliases = versions.onChange((name) => {
    if (versions.get(name)) pool.retireUnpinned(name);
  });
  // API keys, secrets, audit, rate limits and the front door every request passes first.
  const access = await createAccessParts({
    config: config.access,
    dataDir: config.dataDir,
    dbFile: state.dbFile,
    stores,
    versions,
    pool,
    exists,
    log,
  });
  const close = async () => {
    unfollowPlugins();
    unfollowAliases();
    await stemCells.close();
    await docsScanner.close();
  };
  /** Stocks stem cells for the versions active now (their first cold start finds one). */
  const stockCells = async () => {
    for (const name of versions.names()) {
      const active = versions.get(name);
      if (active) await stockStemCells(factoryDeps, active);
    }
  };
  return { pool, access, close, stemCells, stockCells };
}
type Instances = Awaited<ReturnType<typeof createInstances>>;

/** Builds (in the sandbox, through the build proxy), build storage, deploys and the other sources. */
async function createDeploys(ctx: Context, driver: Driver, state: State, pool: InstancePool) {
  const { config, log, urls } = ctx;
  const { stores, versions } = state;
  // Builds run in the sandbox; their network is kumo's proxy to what --build-allow lists, or none.
  const buildProxy = config.build.allow.length ? await BuildProxy.start(config.build.allow, log) : undefined;
  const builder = new Builder({
    driver,
    workRoot: path.join(config.dataDir, 'tmp'),
    toolEnv: buildToolEnv(process.env),
    ...(buildProxy ? { proxySocket: buildProxy.socketPath } : {}),
  });
  const builds = state.builds;
  const share = state.share;
  const deployer = new DeployService({
    store: stores.functions,
    versions,
    pool,
    dataDir: config.dataDir,
    log,
    urls,
    builder,
    builds,
    buildLimits: config.build.limits,
    pluginQuotas: config.plugins.quotas,
    keepVersions: config.build.keepVersions,
    bundleLimit: config.limits.bundleLimit,
    ...(share ? { publishBuild: (hash: string, dir: string) => share.publish(hash, dir) } : {}),
  });
  // Zip, git and multi-function project deploys, and the watched deploy folder.
  const sources = createSourceParts({
    config: config.sources,
    store: stores.functions,
    aliases: stores.aliases,
    apiRouteStore: stores.apiRoutes,
    apiRoutes: state.apiRoutes,
    // Bound once the cluster link exists (it is built after the deploy parts).
    announce: (fn: string) => ctx.cluster.announce(fn),
    versions,
    pool,
    deployer,
    dataDir: config.dataDir,
    log,
    urls,
  });
  // Aliases: one service for kumo's API and the Lambda API.
  const aliases = new AliasService({
    store: stores.functions,
    aliases: stores.aliases,
    versions,
    now: Date.now,
  });
  return { buildProxy, deployer, sources, aliases };
}
type Deploys = Awaited<ReturnType<typeof createDeploys>>;

/** The Invoker, async parts, gateway, control API and the one route table over all of them. */
function createDataPlane(
  ctx: Context,
  host: Host,
  state: State,
  instances: Instances,
  deploys: Deploys,
  announce: (fn: string) => void,
) {
  const { config, log } = ctx;
  const { stores, versions } = state;
  const { pool, access } = instances;
  // What strangers can make the server hold: their log lines are throttled, so they cannot flood the log either.
  const throttle = new LogThrottle(log);
  const bodyBudget = new BodyBudget(config.limits.bodyBudget, (wanted, used) =>
    throttle.warn('body_budget', 'request body refused with 503: the body budget is full', {
      wanted,
      used,
      budget: config.limits.bodyBudget,
    }),
  );
  const invoker = new Invoker({
    versions,
    pool,
    tracker: state.tracker,
    log,
    bodyLimit: config.bodyLimit,
    responseLimit: config.responseLimit,
    // asyncParts (below) is ready before the first invocation.
    onInvocation: (summary) => {
      asyncParts.onInvocation(summary);
      forgetLater(state.outputBudget, summary.id);
    },
  });
  // Async invocations, callbacks, history, metrics and schedules; the queue runs through the Invoker.
  const asyncParts = createAsyncParts({
    config: config.async,
    stores,
    versions,
    pool,
    log,
    bodyLimit: config.bodyLimit,
    bodyBudget,
    functions: () => versions.names(),
    runner: invoker,
    admitResult: (req, res, fn) => access.admitResult(req, res, fn),
    onScheduleChange: announce,
    node: {
      id: config.cluster.nodeId,
      visibilityTimeoutMs: config.cluster.visibilityTimeoutMs,
      shared: stores.cluster.shared,
      leaderLeaseMs: config.cluster.leaderLeaseMs,
    },
    cluster: stores.cluster,
    health: state.health,
  });
  const gateway = new Gateway({
    invoker,
    bodyLimit: config.bodyLimit,
    bodyBudget,
    historyBodyLimit: asyncParts.historyBodyLimit,
    intake: asyncParts.intake,
  });
  const webConsole = new ConsoleHandler({ build: buildConsoleAssets });
  // Every route kumo serves, each declared beside its handler, in one table (routes.ts).
  const routes = createRoutes({
    parts: [
      controlApi(ctx, host, state, instances, deploys, asyncParts, () => routes.table.routes()),
      lambdaApi(ctx, state, instances, deploys, invoker, asyncParts),
      gatewayRoutes({
        invoke: (req, res, fnRoute, forceAsync) => gateway.invoke(req, res, fnRoute, forceAsync),
        baseDomain: config.baseDomain,
        exists: (name) => versions.get(name) !== undefined,
      }),
      asyncParts.routes,
      compatRoutes(config.baseDomain),
      apiRouteRoutes(state.apiRoutes, config.baseDomain),
    ],
    admit: access.admit,
    console: (req, res, pathname) => webConsole.handle(req, res, pathname),
    baseDomain: config.baseDomain,
    port: () => ctx.port.value,
    log,
  });
  return { throttle, asyncParts, routes };
}

/** AWS Lambda's API (/2015-03-31/functions/…) for unmodified AWS SDKs, signed with kumo keys' AWS credentials. */
function lambdaApi(
  ctx: Context,
  state: State,
  instances: Instances,
  deploys: Deploys,
  invoker: Invoker,
  asyncParts: ReturnType<typeof createAsyncParts>,
) {
  const { config, log } = ctx;
  return lambdaRoutes({
    invoker,
    versions: state.versions,
    queue: asyncParts.queue,
    logLines: async (id) => {
      // A line printed just before the answer may still be in the instance's pipe.
      await new Promise((resolve) => setTimeout(resolve, LOG_TAIL_WAIT_MS));
      await state.logSink.flush();
      return (await state.stores.invocations.logs(id, 1000)).map((l) => l.line);
    },
    responseLimit: config.responseLimit,
    asyncBodyLimit: Math.min(config.async.asyncBodyLimit, config.bodyLimit),
    historyBodyLimit: asyncParts.historyBodyLimit,
    now: Date.now,
    deployer: deploys.deployer,
    aliases: deploys.aliases,
    authenticate: (req, service) => instances.access.awsKeys.authenticate(req, service),
    dataDir: config.dataDir,
    bodyLimit: config.bodyLimit,
    uploadLimit: config.uploadLimit,
    urls: ctx.urls,
    store: state.stores.functions,
    log: (err, operation) =>
      log.error('lambda api: request failed', { operation, error: String((err as Error)?.stack ?? err) }),
  });
}

/** How long LogType Tail waits for an invocation's last lines to leave the instance's pipe. */
const LOG_TAIL_WAIT_MS = 20;

/** The control API's routes under /api/v1. */
function controlApi(
  ctx: Context,
  host: Host,
  state: State,
  instances: Instances,
  deploys: Deploys,
  asyncParts: ReturnType<typeof createAsyncParts>,
  table: () => ReturnType<ReturnType<typeof createRoutes>['table']['routes']>,
) {
  const { config, log } = ctx;
  const { pool } = instances;
  return controlRoutes({
    store: state.stores.functions,
    versions: state.versions,
    pool,
    deployer: deploys.deployer,
    aliases: deploys.aliases,
    sources: deploys.sources.deployer,
    logs: state.logSink,
    log,
    dataDir: config.dataDir,
    uploadLimit: config.uploadLimit,
    deployConcurrency: config.limits.deployConcurrency,
    urls: ctx.urls,
    now: Date.now,
    sandbox: { name: host.sandbox.sandbox.name, isolated: host.sandbox.sandbox.isolated },
    stemCells: () => ({ ...instances.stemCells.stats() }),
    version: KUMO_VERSION,
    node: () => ({
      node: config.cluster.nodeId,
      store: { kind: config.store.kind, shared: state.stores.cluster.shared, ...state.health.view() },
      leader: asyncParts.isLeader(),
    }),
    invocations: asyncParts.apiDeps,
    access: instances.access.apiDeps,
    instancePeaks: (fn, start, step, count) => {
      // The present count too: an instance started with the deploy may have raised no pool event.
      state.instanceTimeline.record(fn, pool.stats(fn).total, Date.now());
      return state.instanceTimeline.peaks(fn, start, step, count);
    },
    // The whole table (built after this), for /scopes and /openapi.json: read at request time.
    routes: table,
    apiRoutes: () => state.apiRoutes.list(),
  });
}

/**
 * Stops counting an invocation's output 10 s after it ended: its last lines may still sit in the
 * instance's stdout pipe. A function of its own so the timer holds the id only: a closure over the
 * invocation's summary kept its request body alive for those 10 s (1 GB of RSS under 100 MB/s).
 */
function forgetLater(budget: OutputBudget, id: string): void {
  setTimeout(() => budget.forget(id), 10_000).unref();
}
