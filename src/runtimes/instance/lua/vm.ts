/**
 * One Lua VM (Lua 5.4 compiled to WebAssembly by wasmoon) holding a function's compiled action,
 * with the limits the VM itself enforces, after the lua action server:
 *   - memory: wasmoon's allocator refuses to grow past `maxMemoryBytes` ("not enough memory"),
 *   - time: an instruction-count hook, inherited by every thread of the VM, raises an error once
 *     the running invocation's deadline has passed,
 * and a reduced standard library: no io, debug, package (so no `require` of native modules), no
 * os.execute/exit/remove/rename/tmpname/getenv, no dofile/loadfile, and `load` of text only
 * (bytecode can break out of the VM's invariants). `require` loads `.lua` files of the bundle.
 * After a limit is hit the VM is thrown away and a fresh one loads the action again, so garbage a
 * runaway run left behind cannot starve the next one.
 * Imports only wasmoon and node builtins: instances run it bundled, with wasmoon imported from its own folder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LUA_REGISTRYINDEX, LuaEventMasks, LuaFactory, LuaLibraries } from 'wasmoon';
import type { LuaEngine, LuaThread } from 'wasmoon';

/** Instructions between two deadline checks: cheap enough for hot loops, fine enough for ms limits. */
const HOOK_COUNT = 1000;
/** The message the time hook raises, recognised to report a time violation. */
const TIME_MARK = 'kumo: time limit exceeded';

/** How a run of the action ended when it did not return. */
export type Violation = 'memory' | 'time';

/** A failed run: the Lua error, and which limit it broke, if any. */
export class LuaRunError extends Error {
  readonly violation: Violation | undefined;

  constructor(message: string, violation: Violation | undefined) {
    super(message);
    this.name = 'LuaRunError';
    this.violation = violation;
  }
}

/** What a VM needs: the compiled action, the bundle for `require`, the limits and the host hooks. */
export interface VmOptions {
  bytecode: Uint8Array;
  /** The build folder, where `require('x')` finds x.lua or x/init.lua. */
  bundleDir: string;
  maxMemoryBytes: number;
  /** `call(plugin, action, payload)` inside Lua; resolves with the plugin's result. */
  call: (plugin: string, action: string, payload: unknown) => Promise<unknown>;
  /** `print` inside Lua, one line. */
  print: (line: string) => void;
}

const SANDBOX_LUA = `
local _load = load
load = function(chunk, name, _mode, env) return _load(chunk, name, 't', env) end
dofile, loadfile = nil, nil
io, debug, package = nil, nil, nil
if os then
  os.execute, os.exit, os.remove, os.rename, os.tmpname, os.getenv, os.setlocale = nil, nil, nil, nil, nil, nil, nil
end
local loaded = {}
require = function(name)
  if loaded[name] ~= nil then return loaded[name] end
  local found = __kumo_source(name)
  if found == nil then error("module '" .. tostring(name) .. "' not found in the bundle (only .lua files of the bundle can be required)", 2) end
  local chunk, err = _load(found[1], '@' .. found[2], 't')
  if chunk == nil then error(err, 2) end
  local value = chunk(name)
  if value == nil then value = true end
  loaded[name] = value
  return value
end
function call(plugin, action, payload)
  return __kumo_call(plugin, action, payload):await().value
end
local hex = __kumo_bytecode
__kumo_bytecode = nil
local action, err = _load((hex:gsub('%x%x', function(h) return string.char(tonumber(h, 16)) end)), '=action', 'b')
if action == nil then error('the compiled action does not load: ' .. tostring(err)) end
action()
`;

/** A built-in action run once by a stem cell's warm-up: compiled to bytecode in a VM of its own. */
const WARM_ACTION = `
local src = "function main(args) local t = {} for i, v in ipairs(args.list) do t[i] = v * 2 end return { ok = args.warm, list = t, s = string.format('%d', #t) } end"
return (string.dump(load(src)):gsub('.', function(c) return string.format('%02x', c:byte()) end))
`;

/** A factory shares one compiled WebAssembly module between the VMs of an instance. */
export class LuaVmFactory {
  private readonly factory = new LuaFactory();
  /** An engine made ahead (by `warm`) for the first VM: an empty Lua state, no action in it. */
  private spare: LuaEngine | undefined;

  /**
   * A stem cell's warm-up: compiles the Lua WebAssembly module, runs a built-in action once in a
   * throwaway VM (so wasmoon's glue and the VM's own paths are compiled before the first real
   * one, ~15 ms of an assignment otherwise), and makes the first VM's engine ahead of time.
   */
  async warm(): Promise<void> {
    await this.factory.getLuaModule();
    const compiler = await this.newEngine();
    let hex: unknown;
    try {
      compiler.global.loadLibrary(LuaLibraries.Base);
      compiler.global.loadLibrary(LuaLibraries.String);
      hex = compiler.doStringSync(WARM_ACTION);
    } finally {
      compiler.global.close();
    }
    const vm = await this.create({
      bytecode: Buffer.from(String(hex), 'hex'),
      bundleDir: '/nonexistent',
      maxMemoryBytes: 16 * 1024 * 1024,
      call: () => Promise.resolve(undefined),
      print: () => undefined,
    });
    try {
      await vm.run({ warm: true, list: [1, 2, 3] }, Date.now() + 5000);
    } finally {
      vm.close();
    }
    this.spare = await this.newEngine();
  }

  /** A ready VM with the action loaded (its top-level code has run, so `main` is defined). */
  async create(options: VmOptions): Promise<LuaVm> {
    const engine = this.spare ?? (await this.newEngine());
    this.spare = undefined;
    const vm = new LuaVm(engine, options);
    try {
      vm.prepare();
    } catch (err) {
      vm.close();
      throw err;
    }
    return vm;
  }

  private newEngine(): Promise<LuaEngine> {
    return this.factory.createEngine({
      openStandardLibs: false,
      injectObjects: false,
      enableProxy: false,
      traceAllocations: true,
    });
  }
}

/** One VM: call `run(args, deadline)` for each invocation. */
export class LuaVm {
  private readonly engine: LuaEngine;
  private readonly options: VmOptions;
  private readonly deadlines = new Map<number, number>();
  private hookPointer = 0;

  constructor(engine: LuaEngine, options: VmOptions) {
    this.engine = engine;
    this.options = options;
  }

  /** Opens the allowed libraries, removes the dangerous parts, installs the hook and loads the action. */
  prepare(): void {
    const g = this.engine.global;
    for (const lib of [
      LuaLibraries.Base,
      LuaLibraries.Coroutine,
      LuaLibraries.Table,
      LuaLibraries.String,
      LuaLibraries.UTF8,
      LuaLibraries.Math,
      LuaLibraries.OS,
    ]) {
      g.loadLibrary(lib);
    }
    // Boxed: wasmoon cannot await a promise that resolves to null (a plugin's "nothing").
    g.set('__kumo_call', async (plugin: unknown, action: unknown, payload: unknown) => ({
      value: withoutNulls(await this.options.call(String(plugin), String(action), payload)),
    }));
    g.set('__kumo_source', (name: unknown) => this.moduleSource(String(name)));
    g.set('print', (...values: unknown[]) => this.options.print(values.map(luaToString).join('\t')));
    const lua = g.lua;
    this.hookPointer = lua.module.addFunction((state: number) => {
      const deadline = this.deadlines.get(state);
      if (deadline !== undefined && Date.now() > deadline) {
        lua.lua_pushstring(state, TIME_MARK);
        lua.lua_error(state);
      }
    }, 'vii');
    // Threads made later inherit the global state's hook (lua_newthread copies it).
    lua.lua_sethook(g.address, this.hookPointer, LuaEventMasks.Count, HOOK_COUNT);
    g.setMemoryMax(this.options.maxMemoryBytes);
    // The bytecode travels as hex (a JS string into Lua is UTF-8) and is loaded by the sandbox
    // script after it has removed what the action must not see, then the action's top level runs.
    g.set('__kumo_bytecode', Buffer.from(this.options.bytecode).toString('hex'));
    this.engine.doStringSync(SANDBOX_LUA);
    this.checkMain();
  }

  /** Checks that the action's top level defined `main`. */
  private checkMain(): void {
    if (typeof this.engine.global.get('main') !== 'function') {
      throw new LuaRunError('the action defines no function main(args)', undefined);
    }
  }

  /** Calls `main(args)` in a fresh Lua thread; resolves with its first result. */
  async run(args: unknown, deadline: number): Promise<unknown> {
    const g = this.engine.global;
    const lua = g.lua;
    const thread: LuaThread = g.newThread();
    // Anchored in the registry (not on the global stack), so concurrent runs can end in any order.
    const ref = lua.luaL_ref(g.address, LUA_REGISTRYINDEX);
    this.deadlines.set(thread.address, deadline);
    try {
      lua.lua_getglobal(thread.address, 'main');
      thread.pushValue(withoutNulls(args));
      const results = await thread.run(1);
      return results[0];
    } catch (err) {
      throw this.classify(err);
    } finally {
      this.deadlines.delete(thread.address);
      lua.luaL_unref(g.address, LUA_REGISTRYINDEX, ref);
    }
  }

  /** Memory the VM's allocator holds, in bytes. */
  memoryUsed(): number {
    return this.engine.global.getMemoryUsed();
  }

  /** Frees the VM. */
  close(): void {
    const g = this.engine.global;
    if (this.hookPointer) {
      g.lua.lua_sethook(g.address, null, 0, 0);
      g.lua.module.removeFunction(this.hookPointer);
      this.hookPointer = 0;
    }
    g.close();
  }

  private classify(err: unknown): LuaRunError {
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes(TIME_MARK)) return new LuaRunError(message, 'time');
    if (/not enough memory/.test(message)) return new LuaRunError(message, 'memory');
    return new LuaRunError(message, undefined);
  }

  /** The text of bundle module `name` (dots are folders) and its path, for `require`. */
  private moduleSource(name: string): [string, string] | undefined {
    if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(name)) return undefined;
    const base = name.split('.').join('/');
    for (const rel of [`${base}.lua`, `${base}/init.lua`]) {
      try {
        return [readFileSync(path.join(this.options.bundleDir, rel), 'utf8'), rel];
      } catch {
        // try the next form
      }
    }
    return undefined;
  }
}

/**
 * JSON's null as Lua's nil: wasmoon cannot push a null (nor await a promise of one), and a table
 * field set to nil is absent in Lua anyway.
 */
export function withoutNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value === 'object' && value !== undefined && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = withoutNulls(v);
    return out;
  }
  return value;
}

/** How Lua's tostring would show a value passed to print. */
function luaToString(value: unknown): string {
  if (value === undefined || value === null) return 'nil';
  if (typeof value === 'object') return JSON.stringify(value) ?? String(value);
  return String(value);
}
