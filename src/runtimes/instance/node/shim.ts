/**
 * The program that runs inside every node instance (the Instance protocol of DESIGN.md). It is
 * started by `launch()` with a clean environment and file descriptor 3 open as a pipe to the
 * driver, and:
 *   1. takes the KUMO_* control variables out of process.env (core/instance-protocol.ts),
 *   2. tags stdout/stderr lines written inside an invocation with its id (log-tag.ts),
 *   3. imports the function's entry and picks its handler (detect.ts),
 *   4. serves HTTP on the Unix socket KUMO_SOCKET,
 * and writes exactly one JSON line on fd 3: `{"type":"ready"}` once listening, or
 * `{"type":"error","code":"unknown_handler"|"handler_error","message":…}` before exiting with 1.
 * On SIGTERM it stops accepting, lets in-flight requests finish and exits 0.
 *
 * It imports node builtins and kumo's own runtime files only, and runs bundled (shim-bundle.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { takeControl } from './control.ts';
import type { Control } from './control.ts';
import { pickHandler } from './detect.ts';
import type { ConcreteStyle } from './detect.ts';
import { InstanceServer } from './instance-server.ts';
import type { Adapter, HandlerFunction } from './invocation.ts';
import { tagStream } from './log-tag.ts';
import { installPluginCall } from '../host/node-plugins.ts';
import { awaitAssignment, report, roundTrip, warmSocketPath } from '../support.ts';
import { fetchAdapter } from './styles/fetch.ts';
import { lambdaAdapter } from './styles/lambda.ts';
import { nodeAdapter } from './styles/node.ts';
import { plainAdapter } from './styles/plain.ts';

const ADAPTERS: Record<ConcreteStyle, (fn: HandlerFunction, thisArg: unknown) => Adapter> = {
  fetch: fetchAdapter,
  node: nodeAdapter,
  lambda: lambdaAdapter,
  plain: plainAdapter,
};

/** An empty module: importing it sets up the ESM loader. */
const LOADER_WARM_UP = 'data:text/javascript,export{}';

/**
 * What a stem cell does before it counts as ready: the work of a first load and a first request
 * that needs no function. Node compiles its built-in modules lazily, and V8 each function, the
 * first time they are used: the ESM loader (the first dynamic import), undici behind Request,
 * Response and Headers (the fetch style), the HTTP server's parser and response writer, fs
 * promises (listen removes a stale socket), crypto. On a busy 2-core host that was 100-300 ms of
 * a cold start (a CPU profile of an assignment: compileForInternalLoader on top); with the loader
 * and fetch classes warmed, the HTTP server's first response still cost ~10 ms of a 40 ms cold
 * start (timed inside the cell). So the cell serves one request of each style through an
 * InstanceServer of its own, on a socket beside its own, exactly the path a first request takes.
 */
async function warmUp(): Promise<void> {
  await import(LOADER_WARM_UP);
  crypto.randomUUID();
  const socketPath = warmSocketPath();
  for (const style of ['fetch', 'node'] as const) {
    const fn: HandlerFunction =
      style === 'fetch'
        ? async (req) => Response.json({ got: await (req as Request).text() }, { headers: { a: 'b' } })
        : (_req, res) => (res as ServerResponse).writeHead(200, { a: 'b' }).end('warm');
    const server = new InstanceServer({
      adapter: ADAPTERS[style](fn, undefined),
      store: new AsyncLocalStorage<string>(),
      vars: {},
      functionName: 'warm-up',
      version: '0',
      memoryMb: 0,
      timeoutMs: 5000,
    });
    await server.listen(socketPath);
    await roundTrip(socketPath);
    // Closing a Unix socket server removes its path.
    await server.shutdown();
  }
}

/** Reports a load failure and exits; stderr has been written synchronously (it is a pipe). */
function fail(code: 'unknown_handler' | 'handler_error', message: string): never {
  report({ type: 'error', code, message });
  process.exit(1);
}

/** Imports the entry, or fails with handler_error (syntax error, throw at import, missing import). */
async function load(control: Control): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(control.entry).href)) as Record<string, unknown>;
  } catch (err) {
    console.error(err);
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    fail('handler_error', `the function failed to load: ${reason}`);
  }
}

async function main(): Promise<void> {
  const store = new AsyncLocalStorage<string>();
  tagStream(process.stdout, store);
  tagStream(process.stderr, store);
  let control: Control;
  try {
    await awaitAssignment(warmUp);
    control = takeControl(process.env);
  } catch (err) {
    fail('handler_error', (err as Error).message);
  }
  // Plugins (kumo.yaml `plugins:`): a global `call(plugin, action, payload)` over the host channel.
  installPluginCall(globalThis, control.hostSocket, () => store.getStore());
  const mod = await load(control);
  const picked = pickHandler(mod, control.style, control.exportName);
  if (!picked.ok) fail('unknown_handler', picked.message);
  const { style, fn, thisArg } = picked.handler;
  const server = new InstanceServer({
    adapter: ADAPTERS[style](fn, thisArg),
    store,
    vars: control.vars,
    functionName: control.functionName,
    version: control.version,
    memoryMb: control.memoryMb,
    timeoutMs: control.timeoutMs,
  });
  await server.listen(control.socketPath);
  const stop = () => void server.shutdown().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A forgotten promise must not take down an instance that is serving others; it is logged.
  process.on('unhandledRejection', (reason) => console.error('unhandled promise rejection:', reason));
  report({ type: 'ready' });
}

await main();
