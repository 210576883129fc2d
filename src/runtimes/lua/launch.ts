/**
 * The command line of one lua instance: Node (the binary running kumo) running the lua shim, which
 * hosts the Lua VM. The VM's memory limit is the manifest's `lua.maxmem` (KB), else half the
 * function's memory; its time limit is `lua.timeout`, else the function's timeout.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_ENV, controlEnv, readLaunchRecord, recordString } from '../launch-record.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { nodeInstallDir, shimBundle } from '../shim-bundle.ts';

/** The program every lua instance runs (bundled to plain JavaScript first, but for wasmoon). */
export const LUA_SHIM = fileURLToPath(new URL('./shim.ts', import.meta.url));
/** wasmoon's entry, which loads the Lua WebAssembly module from its own folder. */
const WASMOON_URL = import.meta.resolve('wasmoon');
/** wasmoon's package folder (its JavaScript and the Lua WebAssembly module). */
const WASMOON_DIR = path.dirname(path.dirname(fileURLToPath(WASMOON_URL)));

/** The VM memory limit in bytes for a spec. */
export function luaMemoryBytes(spec: LaunchOptions['spec']): number {
  return spec.lua?.maxmem !== undefined
    ? spec.lua.maxmem * 1024
    : Math.floor((spec.memory * 1024 * 1024) / 2);
}

/** Plans an instance of the build in `options.buildDir`. */
export function launchLua(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const record = readLaunchRecord(buildDir, 'lua');
  const shim = shimBundle(LUA_SHIM, { wasmoon: WASMOON_URL });
  return {
    command: process.execPath,
    args: [`--max-old-space-size=${Math.max(64, Math.floor(spec.memory / 2))}`, shim],
    env: {
      ...BASE_ENV,
      ...spec.env,
      ...controlEnv(options),
      KUMO_BYTECODE: path.join(buildDir, recordString(record, 'bytecode')),
      KUMO_BUNDLE: buildDir,
      KUMO_LUA_MEMORY: String(luaMemoryBytes(spec)),
      KUMO_LUA_TIMEOUT: String(spec.lua?.timeout ?? 0),
    },
    cwd: buildDir,
    readOnlyPaths: [nodeInstallDir(process.execPath), path.dirname(shim), WASMOON_DIR, buildDir],
  };
}
