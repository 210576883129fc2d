/**
 * How the pool gets a new instance of a function version: the runtime's launch plan, the host
 * channel (plugins, limit reports), the driver's start with the version's limits, and the
 * instance's output — each line attributed to its invocation, cut at the per-invocation budget,
 * secrets masked — into the function's log. Also the server log's lines about pool events.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ENV, parseTaggedLine, type FunctionSpec, type ServerLog } from '../core/index.ts';
import type { Driver, Instance } from '../drivers/index.ts';
import type { PluginHost } from '../plugins/index.ts';
import type { PoolEvent, PoolTarget } from '../pool/index.ts';
import { NEUTRAL, Placement, taskDir, type LaunchPlan } from '../runtimes/index.ts';
import { runtimeFor } from '../build/index.ts';
import type { LogSink, InvocationTracker, OutputBudget } from '../telemetry/index.ts';
import { CELL_LOAD_TIMEOUT_MS, fillCell, type StemCells, type TakenCell } from './stem-cells.ts';

/** How long an instance may take to become ready. */
const START_TIMEOUT_MS = 15_000;

/** What starting an instance needs. */
export interface InstanceFactoryDeps {
  /** The folder of the instances' socket folders. */
  runDir: string;
  driver: Driver;
  plugins: PluginHost;
  tracker: InvocationTracker;
  outputBudget: OutputBudget;
  logSink: LogSink;
  /** The spec with its secrets opened, and how to mask them in log lines (may throw secrets_unavailable). */
  secrets: (
    functionName: string,
    spec: FunctionSpec,
  ) => Promise<{ spec: FunctionSpec; mask: (line: string) => string }>;
  /** Started, unassigned instances a cold start takes when one fits (stem-cells.ts). */
  stemCells?: StemCells;
  /** The server log (a debug line per stem cell assignment, with the time of each step). */
  log?: ServerLog;
}

/** The launch plan and limits of an instance of `target` whose socket is `socketPath` on the host. */
function planOf(driver: Driver, target: PoolTarget, spec: FunctionSpec, socketPath: string) {
  const runtime = runtimeFor(target.spec.runtime);
  const view = { neutral: driver.neutralPaths };
  const launch = runtime.launch({
    buildDir: target.buildDir,
    spec,
    version: target.version,
    // The sandbox shows the socket folder at NEUTRAL.socketDir (bubblewrap-sandbox.ts).
    socketPath: view.neutral ? `${NEUTRAL.socketDir}/${path.basename(socketPath)}` : socketPath,
    view,
  });
  const limits = {
    memoryMb: target.spec.memory,
    network: target.spec.network,
    maxProcesses: target.spec.maxProcesses,
    cpu: target.spec.cpu,
    tmpSizeMb: target.spec.tmpSize,
  };
  return { launch, limits, place: new Placement(view) };
}

/**
 * Makes the stem cells keep cells of `target`'s shape (a version active when the server starts,
 * so its first cold start finds one). Best effort: a version that cannot be planned is skipped.
 */
export async function stockStemCells(d: InstanceFactoryDeps, target: PoolTarget): Promise<void> {
  if (!d.stemCells?.enabled) return;
  try {
    const secret = await d.secrets(target.functionName, target.spec);
    const { launch, limits } = planOf(d.driver, target, secret.spec, path.join(d.runDir, 'x', 'fn.sock'));
    const blueprint = d.stemCells.blueprint(target.spec.runtime, launch, limits);
    if (blueprint) d.stemCells.prepare(blueprint);
  } catch {
    // its first cold start takes the ordinary path and reports what is wrong
  }
}

/** The pool's instance factory. */
export function createInstanceFactory(d: InstanceFactoryDeps) {
  const { runDir, driver, plugins, tracker, outputBudget, logSink } = d;
  return async (target: PoolTarget, id: string): Promise<Instance> => {
    // Opened per instance, so a changed secret reaches the next instance.
    const secret = await d.secrets(target.functionName, target.spec);
    const dir = path.join(runDir, id);
    const socketPath = path.join(dir, 'fn.sock');
    const { launch, limits, place } = planOf(driver, target, secret.spec, socketPath);
    const blueprint = d.stemCells?.blueprint(target.spec.runtime, launch, limits);
    const cell = blueprint && d.stemCells?.take(blueprint);
    if (cell) return assignCell(cell, target, launch, outputOf(target, secret.mask));
    await mkdir(dir, { recursive: true });
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
        limits,
        startTimeoutMs: START_TIMEOUT_MS,
        onOutput: outputOf(target, secret.mask)(id),
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
  };

  /** The output handler of instance `id` of `target`: each line to its invocation's log, budgeted, masked. */
  function outputOf(target: PoolTarget, mask: (line: string) => string) {
    return (id: string) =>
      (stream: 'stdout' | 'stderr', raw: string): void => {
        const parsed = parseTaggedLine(raw);
        const invocationId = parsed.invocationId ?? tracker.sole(id);
        const verdict = outputBudget.admit(invocationId ?? `instance:${id}`, parsed.text.length);
        if (verdict === 'drop') return;
        const line = verdict === 'keep' ? mask(parsed.text) : outputBudget.marker();
        logSink.write({
          time: Date.now(),
          function: target.functionName,
          version: target.version,
          invocationId,
          stream: verdict === 'keep' ? stream : 'system',
          line,
        });
      };
  }

  /**
   * Hands a stem cell its version: the built tree copied into its code folder, the host channel
   * opened in its host folder and given to its host uid, then the version's environment sent
   * over its socket (the shim loads the function and answers). A cell that fails is killed.
   */
  async function assignCell(
    cell: TakenCell,
    target: PoolTarget,
    launch: LaunchPlan,
    output: (id: string) => (stream: 'stdout' | 'stderr', line: string) => void,
  ): Promise<Instance> {
    const { instance } = cell;
    cell.setOutput(output(instance.id));
    let channel: Awaited<ReturnType<PluginHost['open']>> | undefined;
    const t0 = performance.now();
    try {
      // The copy and the host channel are independent: both at once.
      let copied = 0;
      const copy = fillCell(cell, taskDir(target.buildDir)).then(() => (copied = performance.now()));
      const opening = plugins.open(path.join(cell.hostDir, 'ch'), target);
      const [copyDone, open] = await Promise.allSettled([copy, opening]);
      if (open.status === 'rejected') throw open.reason;
      channel = open.value;
      if (copyDone.status === 'rejected') throw copyDone.reason;
      const opened = performance.now();
      const hostSocket = `${NEUTRAL.hostDir}/ch/${path.basename(channel.socketPath)}`;
      await instance.assign({
        env: { ...launch.env, [ENV.hostSocket]: hostSocket },
        // The code folder has been the cell's own (0700) since it started: what is copied in is
        // world-readable like every build (the ordinary path reads builds as the instance's uid),
        // so only the channel's folder and socket, made just now, need its uid (to connect).
        give: [path.dirname(channel.socketPath)],
        timeoutMs: CELL_LOAD_TIMEOUT_MS,
      });
      const ms = (a: number, b: number) => Math.round((b - a) * 10) / 10;
      d.log?.debug('stem cell assigned', {
        function: target.functionName,
        version: target.version,
        instance: instance.id,
        copyMs: ms(t0, copied),
        copyAndChannelMs: ms(t0, opened),
        loadMs: ms(opened, performance.now()),
      });
    } catch (err) {
      instance.kill();
      await channel?.close();
      throw err;
    }
    const held = channel;
    void instance.exited.then(() => {
      void held?.close();
      outputBudget.forget(`instance:${instance.id}`);
    });
    return instance;
  }
}

/** The server log's line about a pool event. */
export function logPoolEvent(log: ServerLog, e: PoolEvent): void {
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
