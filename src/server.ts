/**
 * The composition root: reads the config, builds every part once and wires them, owns the HTTP
 * listener and the graceful shutdown. Nothing else creates long-lived objects.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { controlRoutes, DeployService } from './api/index.ts';
import type { ServerConfig } from './config.ts';
import { createAsyncParts } from './server-async.ts';
import { createAccessParts } from './server-access.ts';
import { createRoutes } from './server-routes.ts';
import { createSourceParts } from './server-sources.ts';
import { ENV, KumoError, LogThrottle, parseTaggedLine, type ServerLog } from './core/index.ts';
import {
  BubblewrapSandbox,
  ownedTempDir,
  sweepTempDirs,
  NoSandbox,
  ProcessDriver,
  sandboxProblems,
  probeHost,
  type Driver,
  type Sandbox,
} from './drivers/index.ts';
import { compatRoutes, Gateway, gatewayRoutes, Invoker } from './gateway/index.ts';
import { answerClientError, BodyBudget, sendError } from './http/index.ts';
import { InstancePool, type PoolEvent, type PoolTarget } from './pool/index.ts';
import { NEUTRAL, nodeRuntime, Placement } from './runtimes/index.ts';
import { Builder, BuildProxy, BuildStore, buildToolEnv, runtimeFor } from './build/index.ts';
import { ActiveVersions, openSqliteStores } from './store/index.ts';
import { DocsScanner, docsPlugin, kvPlugin, PluginHost, PluginRegistry } from './plugins/index.ts';
import {
  createServerLog,
  InstanceTimeline,
  InvocationTracker,
  LogSink,
  OutputBudget,
} from './telemetry/index.ts';
import { buildConsoleAssets, ConsoleHandler } from './ui/index.ts';

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

/** Shared memory: where the instances' socket folders go when the host has it. */
const SHM = '/dev/shm';

/** How long an instance may take to become ready. */
const START_TIMEOUT_MS = 15_000;

/** Builds every part and starts listening. */
export async function startServer(
  config: ServerConfig,
  log: ServerLog = createServerLog(),
): Promise<RunningServer> {
  // 0711: the sandbox's unprivileged user must pass through to the builds, but not list them.
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  const swept = await sweepTempDirs([os.tmpdir(), SHM]);
  if (swept)
    log.info('removed the temporary folders of kumo servers that did not stop cleanly', { count: swept });
  const sandbox = await createSandbox(config, log);
  const runDir = await makeRunDir();
  // Every store on one backend (store/index.ts); the rest of the server sees only their interfaces.
  const stores = openSqliteStores(path.join(config.dataDir, 'kumo.db'));
  const store = stores.functions;
  const versions = new ActiveVersions(store);
  await versions.load();
  const logSink = new LogSink(store);
  const tracker = new InvocationTracker();
  const outputBudget = new OutputBudget(config.logLinesPerInvocation, config.logBytesPerInvocation);
  const driver: Driver = new ProcessDriver(sandbox.sandbox);
  const pluginStore = stores.plugins;
  // docs queries scan in a worker thread, taking each function's queries in turn.
  const docsScanner = new DocsScanner({
    dbFile: path.join(config.dataDir, 'kumo.db'),
    scanLimit: config.plugins.scanLimit,
    queuePerFunction: config.plugins.queuePerFunction,
    log,
  });
  // Instance counts over time, for the console's charts (the pool knows only the present).
  const instanceTimeline = new InstanceTimeline();
  // Every instance gets a host channel: plugins for functions that list them, limit reports for all.
  const plugins = new PluginHost({
    registry: new PluginRegistry(
      [kvPlugin(pluginStore), docsPlugin(pluginStore, docsScanner)],
      config.plugins.quotas,
      (name) => versions.get(name) !== undefined,
    ),
    log,
  });
  // A deleted function takes its kv keys and documents with it: a later one of that name starts empty.
  const unfollowPlugins = versions.onChange((name) => {
    if (versions.get(name)) return;
    pluginStore.deleteFunctionData(name).catch((err: unknown) =>
      log.error('plugins: removing the data of a deleted function failed', {
        function: name,
        error: String(err),
      }),
    );
  });

  const pool = new InstancePool({
    factory: async (target: PoolTarget, id: string) => {
      // Opened per instance, so a changed secret reaches the next instance; may throw secrets_unavailable.
      const secret = await access.instanceSecrets(target.functionName, target.spec);
      const dir = path.join(runDir, id);
      await mkdir(dir, { recursive: true });
      const socketPath = path.join(dir, 'fn.sock');
      const runtime = runtimeFor(target.spec.runtime);
      const view = { neutral: driver.neutralPaths };
      const place = new Placement(view);
      const launch = runtime.launch({
        buildDir: target.buildDir,
        spec: secret.spec,
        version: target.version,
        // The sandbox shows the socket folder at NEUTRAL.socketDir (bubblewrap-sandbox.ts).
        socketPath: view.neutral ? `${NEUTRAL.socketDir}/${path.basename(socketPath)}` : socketPath,
        view,
      });
      // The socket folder must stay empty until the instance listens: the channel has its own.
      const channel = await plugins.open(`${dir}.host`, target).catch(async (err: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw err;
      });
      const hostDir = place.show(path.dirname(channel.socketPath), NEUTRAL.hostDir);
      launch.env[ENV.hostSocket] = `${hostDir}/${path.basename(channel.socketPath)}`;
      launch.mounts.push(...place.mounts);
      try {
        const instance = await driver.start({
          id,
          functionName: target.functionName,
          version: target.version,
          launch,
          socketPath,
          // The host channel is the instance's alone: only its host user may connect.
          ownDirs: [path.dirname(channel.socketPath)],
          limits: {
            memoryMb: target.spec.memory,
            network: target.spec.network,
            maxProcesses: target.spec.maxProcesses,
            cpu: target.spec.cpu,
            tmpSizeMb: target.spec.tmpSize,
          },
          startTimeoutMs: START_TIMEOUT_MS,
          onOutput: (stream, raw) => {
            const parsed = parseTaggedLine(raw);
            const invocationId = parsed.invocationId ?? tracker.sole(id);
            const verdict = outputBudget.admit(invocationId ?? `instance:${id}`, parsed.text.length);
            if (verdict === 'drop') return;
            const line = verdict === 'keep' ? secret.mask(parsed.text) : outputBudget.marker();
            logSink.write({
              time: Date.now(),
              function: target.functionName,
              version: target.version,
              invocationId,
              stream: verdict === 'keep' ? stream : 'system',
              line,
            });
          },
        });
        void instance.exited.then(() => {
          void channel.close();
          outputBudget.forget(`instance:${id}`);
          return rm(dir, { recursive: true, force: true });
        });
        return instance;
      } catch (err) {
        await channel.close();
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
    onEvent: (e) => {
      logPoolEvent(log, e);
      instanceTimeline.record(e.target.functionName, pool.stats(e.target.functionName).total, Date.now());
    },
  });
  // API keys, secrets, audit, rate limits and the front door every request passes first.
  const access = await createAccessParts({
    config: config.access,
    dataDir: config.dataDir,
    dbFile: path.join(config.dataDir, 'kumo.db'),
    stores,
    versions,
    pool,
    exists: (name) => versions.get(name) !== undefined,
    log,
  });

  // What strangers can make the server hold: their log lines are throttled, so they cannot flood the log either.
  const throttle = new LogThrottle(log);
  const bodyBudget = new BodyBudget(config.limits.bodyBudget, (wanted, used) =>
    throttle.warn('body_budget', 'request body refused with 503: the body budget is full', {
      wanted,
      used,
      budget: config.limits.bodyBudget,
    }),
  );

  let port = config.port;
  const urls = (name: string) => ({
    url: `http://${name}.${config.baseDomain}${port === 80 ? '' : `:${port}`}`,
    path: `http://localhost${port === 80 ? '' : `:${port}`}/fn/${name}`,
  });
  // Builds run in the sandbox; their network is kumo's proxy to what --build-allow lists, or none.
  const buildProxy = config.build.allow.length ? await BuildProxy.start(config.build.allow, log) : undefined;
  const builder = new Builder({
    driver,
    workRoot: path.join(config.dataDir, 'tmp'),
    toolEnv: buildToolEnv(process.env),
    ...(buildProxy ? { proxySocket: buildProxy.socketPath } : {}),
  });
  const builds = new BuildStore({
    root: path.join(config.dataDir, 'builds'),
    bundlesDir: path.join(config.dataDir, 'bundles'),
    forget: (p) => driver.forget(p),
    buildInUse: (dir) => store.buildInUse(dir),
    bundleInUse: (hash) => store.bundleInUse(hash),
  });
  const deployer = new DeployService({
    store,
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
  });
  // Zip, git and multi-function project deploys, and the watched deploy folder.
  const sourceParts = createSourceParts({
    config: config.sources,
    store,
    versions,
    pool,
    deployer,
    dataDir: config.dataDir,
    log,
    urls,
  });
  // Async invocations, callbacks, history, metrics and schedules; the queue calls the gateway only once started.
  const invoker = new Invoker({
    versions,
    pool,
    tracker,
    log,
    bodyLimit: config.bodyLimit,
    responseLimit: config.responseLimit,
    // asyncParts (below) is ready before the first invocation.
    onInvocation: (summary) => {
      asyncParts.onInvocation(summary);
      // Its last lines may still sit in the instance's stdout pipe: keep counting them for a while.
      setTimeout(() => outputBudget.forget(summary.id), 10_000).unref();
    },
  });
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
  });
  const api = controlRoutes({
    store,
    versions,
    pool,
    deployer,
    sources: sourceParts.deployer,
    logs: logSink,
    log,
    dataDir: config.dataDir,
    uploadLimit: config.uploadLimit,
    deployConcurrency: config.limits.deployConcurrency,
    urls,
    now: Date.now,
    sandbox: { name: sandbox.sandbox.name, isolated: sandbox.sandbox.isolated },
    version: KUMO_VERSION,
    invocations: asyncParts.apiDeps,
    access: access.apiDeps,
    instancePeaks: (fn, start, step, count) => {
      // The present count too: an instance started with the deploy may have raised no pool event.
      instanceTimeline.record(fn, pool.stats(fn).total, Date.now());
      return instanceTimeline.peaks(fn, start, step, count);
    },
    // The whole table (built below), for /scopes and /openapi.json: read at request time.
    routes: () => routes.table.routes(),
  });
  const webConsole = new ConsoleHandler({ build: buildConsoleAssets });
  const gateway = new Gateway({
    invoker,
    bodyLimit: config.bodyLimit,
    bodyBudget,
    historyBodyLimit: asyncParts.historyBodyLimit,
    intake: asyncParts.intake,
  });
  // Every route kumo serves, each declared beside its handler, in one table (server-routes.ts).
  const routes = createRoutes({
    parts: [
      api,
      gatewayRoutes({
        invoke: (req, res, fnRoute, forceAsync) => gateway.invoke(req, res, fnRoute, forceAsync),
        baseDomain: config.baseDomain,
      }),
      asyncParts.routes,
      compatRoutes(config.baseDomain),
    ],
    admit: access.admit,
    console: (req, res, pathname) => webConsole.handle(req, res, pathname),
    baseDomain: config.baseDomain,
    port: () => port,
    log,
  });

  // Functions with min instances come back warm after a restart; the rest start on first request.
  for (const name of versions.names()) {
    const active = versions.get(name);
    if (active && active.spec.instances.min > 0) pool.activate(active);
  }

  let accepting = true;
  let inflight = 0;
  let idle: (() => void) | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!accepting) {
      req.resume();
      sendError(res, new KumoError('shutting_down', 'kumo is shutting down'), { connection: 'close' });
      return;
    }
    inflight++;
    try {
      await routes.handle(req, res);
    } catch (err) {
      log.error('request failed', { url: req.url, error: String(err) });
      sendError(res, err);
    } finally {
      if (--inflight === 0) idle?.();
    }
  };
  const server = http.createServer(
    {
      keepAliveTimeout: 65_000,
      // Headers, then headers and body, must arrive in time: slow clients cannot hold a connection and its buffers.
      headersTimeout: config.limits.headersTimeoutMs,
      requestTimeout: config.limits.requestTimeoutMs,
      // Node looks for late requests this often (30 s by default, which would stretch every timeout).
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1000, Math.floor(config.limits.headersTimeoutMs / 4)),
      ),
      maxHeaderSize: access.maxHeaderSize,
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    const kind = answerClientError(err, socket);
    if (kind === 'headers_timeout' || kind === 'body_timeout')
      throttle.warn(
        kind,
        `request_timeout: a client was too slow sending its request ${kind === 'headers_timeout' ? 'headers' : 'body'}; answered 408 and closed`,
        {
          remote: socket.remoteAddress ?? null,
          timeoutMs:
            kind === 'headers_timeout' ? config.limits.headersTimeoutMs : config.limits.requestTimeoutMs,
        },
      );
    else if (kind)
      throttle.warn(kind, `refused a malformed request (${kind})`, { remote: socket.remoteAddress ?? null });
  });
  await access.firstStart();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info('kumo is listening', {
    url,
    console: `${url}/ui`,
    data: config.dataDir,
    domain: config.baseDomain,
    runtime: nodeRuntime.name,
    sandbox: sandbox.sandbox.name,
    run: runDir,
  });
  await asyncParts.start();
  await sourceParts.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      accepting = false;
      server.close();
      server.closeIdleConnections();
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.shutdownGraceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await sourceParts.close();
      await asyncParts.stop(config.shutdownGraceMs);
      await pool.close();
      unfollowPlugins();
      await docsScanner.close();
      await logSink.close();
      await asyncParts.close();
      access.close();
      await stores.close();
      await sandbox.close();
      await buildProxy?.close();
      await rm(runDir, { recursive: true, force: true });
      log.info('kumo stopped');
    })());
  return { url, port, close };
}

/**
 * The sandbox every instance runs in: bubblewrap + cgroups + seccomp, or — only when the operator
 * says --insecure-no-sandbox — none. A host that cannot sandbox makes kumo refuse to start.
 */
async function createSandbox(
  config: ServerConfig,
  log: ServerLog,
): Promise<{ sandbox: Sandbox; close(): Promise<void> }> {
  if (config.insecureNoSandbox) {
    log.warn(
      'INSECURE: functions run WITHOUT a sandbox (--insecure-no-sandbox): any function can read and change this host',
    );
    return { sandbox: new NoSandbox(), close: async () => {} };
  }
  const probe = await probeHost(config.sandboxIds ? { idRange: config.sandboxIds } : {});
  const problems = sandboxProblems(probe);
  if (problems.length) {
    throw new KumoError(
      'sandbox_unavailable',
      `kumo cannot isolate functions on this host: ${problems.join('; ')}. Fix that (kumo doctor lists every check), or start with --insecure-no-sandbox to run functions unisolated.`,
    );
  }
  const privateDir = await ownedTempDir(os.tmpdir(), 'sandbox');
  // Reachable by the sandbox's unprivileged host user: mirrors of paths it could not reach.
  const stageDir = await ownedTempDir(os.tmpdir(), 'stage');
  await chmod(stageDir, 0o711);
  const sandbox = new BubblewrapSandbox({ probe, runDir: privateDir, stageDir });
  const sweptGroups = await sandbox.sweep();
  if (sweptGroups)
    log.info('removed the instance cgroups of kumo servers that did not stop cleanly', {
      count: sweptGroups,
    });
  return {
    sandbox,
    close: async () => {
      await sandbox.close();
      await rm(privateDir, { recursive: true, force: true });
      await rm(stageDir, { recursive: true, force: true });
    },
  };
}

/**
 * The folder of the instances' socket folders. On tmpfs (/dev/shm) when there is one: a function
 * can write into its socket folder, and on tmpfs that costs its own memory, not the host's disk.
 */
async function makeRunDir(): Promise<string> {
  const base = (await stat(SHM).catch(() => undefined))?.isDirectory() ? SHM : os.tmpdir();
  const dir = await ownedTempDir(base, 'run');
  await chmod(dir, 0o711);
  return dir;
}

function logPoolEvent(log: ServerLog, e: PoolEvent): void {
  const f = { function: e.target.functionName, version: e.target.version };
  switch (e.type) {
    case 'started':
      log.debug('instance started', { ...f, instance: e.instanceId, ms: e.ms });
      break;
    case 'start_failed':
      log.warn('instance failed to start', {
        ...f,
        error: e.error instanceof Error ? e.error.message.split('\n')[0] : String(e.error),
      });
      break;
    case 'exited':
      if (!e.expected)
        log.warn('instance exited', {
          ...f,
          instance: e.instanceId,
          reason: e.info.reason,
          code: e.info.code,
          signal: e.info.signal,
        });
      break;
    case 'idle_stop':
      log.debug('instance stopped after idle', { ...f, instance: e.instanceId });
      break;
  }
}
