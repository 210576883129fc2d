/**
 * kumo's lua shim: the program that runs inside every lua instance (the Instance protocol of
 * DESIGN.md). It loads the action's bytecode into a Lua VM once (vm.ts) and, for each request,
 * calls `main(args)` with the JSON payload (a POST body) merged over the query parameters as a
 * table. A string result is sent as text, anything else as JSON. A run that breaks the VM's memory
 * or time limit answers 500 memory_limit_exceeded or 504 deadline_exceeded, logs
 * `Function 'NAME' aborted after violating memory constraints`, reports it to the platform (for the
 * server log) and gets a fresh VM. Imports only node builtins, wasmoon and the host client.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HostClient, PluginCallError } from '../host/host-client.ts';
import { ENV, tagText } from '../../../core/index.ts';
import {
  awaitAssignment,
  warmHttp,
  readInvocation,
  report,
  serveOnSocket,
  takeCommonControl,
  takeVariable,
} from '../support.ts';
import { LuaRunError, LuaVmFactory, type LuaVm, type VmOptions } from './vm.ts';

/**
 * The VM stops a run this long before the platform's deadline, so that it answers 504 itself and
 * the instance stays warm, rather than the gateway killing the instance at the deadline.
 */
const DEADLINE_MARGIN_MS = 50;

interface LuaControl {
  socketPath: string;
  functionName: string;
  timeoutMs: number;
  vmTimeoutMs: number;
  maxMemoryBytes: number;
  bytecodeFile: string;
  bundleDir: string;
  hostSocket: string;
}

function takeControl(env: NodeJS.ProcessEnv): LuaControl {
  const take = (name: string): string => takeVariable(env, name);
  const own = {
    vmTimeoutMs: Number(take(ENV.luaTimeout)) || 0,
    maxMemoryBytes: Number(take(ENV.luaMemory)) || 64 * 1024 * 1024,
    bytecodeFile: take(ENV.bytecode),
    bundleDir: take(ENV.bundle),
  };
  const { socketPath, functionName, timeoutMs, hostSocket } = takeCommonControl(env);
  if (!own.bytecodeFile)
    throw new Error(`${ENV.bytecode} must be set: the shim is started by kumo, not by hand`);
  return { ...own, socketPath, functionName, timeoutMs, hostSocket };
}

/** The args table of a request: the JSON body (an object) over the query parameters. */
export function argsOf(req: IncomingMessage, body: Buffer): unknown {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query: Record<string, string> = Object.fromEntries(url.searchParams);
  if (body.length === 0) return query;
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ...query, body: text };
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
    return { ...query, ...(parsed as Record<string, unknown>) };
  return parsed;
}

/** The response for a returned value: strings as text, nil as empty, the rest as JSON. */
export function encodeResult(value: unknown): { body: Buffer; type: string | undefined } {
  if (value === undefined || value === null) return { body: Buffer.alloc(0), type: undefined };
  if (typeof value === 'string') return { body: Buffer.from(value), type: 'text/plain; charset=utf-8' };
  return { body: Buffer.from(JSON.stringify(value) ?? 'null'), type: 'application/json; charset=utf-8' };
}

const VIOLATION_STATUS = {
  memory: [500, 'memory_limit_exceeded'],
  time: [504, 'deadline_exceeded'],
} as const;

/** Serves invocations with one VM at a time, replacing it after a limit was broken. */
class LuaServer {
  private readonly control: LuaControl;
  private readonly factory: LuaVmFactory;
  private readonly host: HostClient;
  private readonly invocation = new AsyncLocalStorage<string>();
  private readonly vmOptions: VmOptions;
  private vm: Promise<LuaVm>;
  /** The VM new runs go to once it is ready; a broken one is replaced only once. */
  private current: LuaVm | undefined;
  private readonly pluginErrors = new Map<string, PluginCallError>();

  constructor(control: LuaControl, factory: LuaVmFactory) {
    this.control = control;
    this.factory = factory;
    this.host = new HostClient(control.hostSocket);
    this.vmOptions = {
      bytecode: readFileSync(control.bytecodeFile),
      bundleDir: control.bundleDir,
      maxMemoryBytes: control.maxMemoryBytes,
      call: (plugin, action, payload) => this.callPlugin(plugin, action, payload),
      print: (line) => this.log('stdout', line),
    };
    this.vm = this.create();
  }

  private create(): Promise<LuaVm> {
    const vm = this.factory.create(this.vmOptions);
    void vm.then(
      (ready) => (this.current = ready),
      () => undefined,
    );
    return vm;
  }

  /** A plugin call; a refusal is remembered so the response can carry its code rather than a bare 500. */
  private async callPlugin(plugin: string, action: string, payload: unknown): Promise<unknown> {
    const id = this.invocation.getStore();
    try {
      return await this.host.call(plugin, action, payload, id);
    } catch (err) {
      if (id && err instanceof PluginCallError) this.pluginErrors.set(id, err);
      throw err;
    }
  }

  /** Resolves once the first VM has loaded the action (or rejects with why it did not). */
  async ready(): Promise<void> {
    await this.vm;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const read = await readInvocation(req, this.control.timeoutMs);
    const { id, body } = read;
    let deadline = read.deadline - DEADLINE_MARGIN_MS;
    if (this.control.vmTimeoutMs > 0) deadline = Math.min(deadline, Date.now() + this.control.vmTimeoutMs);
    const vm = await this.vm;
    let value: unknown;
    try {
      value = await this.invocation.run(id, () => vm.run(argsOf(req, body), deadline));
    } catch (err) {
      return this.fail(res, vm, id, err);
    } finally {
      this.pluginErrors.delete(id);
    }
    let encoded;
    try {
      encoded = encodeResult(value);
    } catch (err) {
      return this.fail(res, vm, id, err);
    }
    const headers: Record<string, string | number> = { 'content-length': encoded.body.length };
    if (encoded.type) headers['content-type'] = encoded.type;
    res.writeHead(200, headers);
    res.end(encoded.body);
  }

  private fail(res: ServerResponse, vm: LuaVm, id: string, err: unknown): void {
    const violation = err instanceof LuaRunError ? err.violation : undefined;
    const name = this.control.functionName;
    let status = 500;
    let code = 'handler_error';
    let message = `the function failed (invocation ${id}); see kumo logs ${name}`;
    if (violation) {
      [status, code] = VIOLATION_STATUS[violation];
      message = `Function '${name}' aborted after violating ${violation} constraints`;
      this.log('stderr', message, id);
      void this.host.reportViolation(violation, id);
      // The VM may hold what the runaway run allocated: start over from the bytecode.
      if (this.current === vm) this.replace(vm);
    } else {
      const text = err instanceof Error ? err.message : String(err);
      this.log('stderr', `error in invocation ${id}: ${text}`, id);
      const refusal = this.pluginErrors.get(id);
      if (refusal && text.includes(refusal.message)) {
        status = refusal.status;
        code = refusal.code;
        message = `${refusal.message} (invocation ${id})`;
      }
    }
    const body = JSON.stringify({ error: { code, message } });
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  private replace(broken: LuaVm): void {
    this.current = undefined;
    const next = this.create();
    this.vm = next;
    // Runs still inside the old VM finish on it; it is freed when the next one is ready.
    void next.then(
      () => setImmediate(() => broken.close()),
      (err: unknown) => {
        console.error('could not restart the Lua VM:', err);
        process.exit(1);
      },
    );
  }

  private log(stream: 'stdout' | 'stderr', line: string, id = this.invocation.getStore()): void {
    const out = stream === 'stdout' ? process.stdout : process.stderr;
    out.write(id ? tagText(`${line}\n`, id, true).text : `${line}\n`);
  }
}

async function main(): Promise<void> {
  let control: LuaControl;
  let server: LuaServer;
  try {
    const factory = new LuaVmFactory();
    await awaitAssignment(async () => {
      await factory.warm();
      await warmHttp();
    });
    control = takeControl(process.env);
    server = new LuaServer(control, factory);
    await server.ready();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(message);
    const code = /defines no function main/.test(message) ? 'unknown_handler' : 'handler_error';
    report({ type: 'error', code, message: `the action failed to load: ${message}` });
    process.exit(1);
  }
  serveOnSocket(control.socketPath, (req, res) => server.handle(req, res), 'lua shim');
}

await main();
