/**
 * The command line of one lua instance: Node (the binary running kumo) running the lua shim, which
 * hosts the Lua VM. The VM's memory limit is the manifest's `lua.maxmem` (KB), else half the
 * function's memory; its time limit is `lua.timeout`, else the function's timeout.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_ENV, controlEnv, readLaunchRecord, recordBundlePath, taskEnv } from '../launch-record.ts';
import { NEUTRAL, Placement, showTask } from '../layout.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { showNode, showShim } from '../shim-bundle.ts';
import { ENV } from '../../core/index.ts';

/** The program every lua instance runs (bundled to plain JavaScript first, but for wasmoon). */
export const LUA_SHIM = fileURLToPath(new URL('../instance/lua/shim.ts', import.meta.url));
/** wasmoon's entry, which loads the Lua WebAssembly module from its own folder. */
const WASMOON_URL = import.meta.resolve('wasmoon');
/** wasmoon's package folder (its JavaScript and the Lua WebAssembly module). */
export const WASMOON_DIR = path.dirname(path.dirname(fileURLToPath(WASMOON_URL)));
/** Where a neutral view shows wasmoon's folder. */
export const WASMOON_AT = `${NEUTRAL.lib}/wasmoon`;

/** wasmoon's entry as a file URL inside the view (the shim imports it from there). */
export function wasmoonUrl(place: Placement): string {
  const dir = place.show(WASMOON_DIR, WASMOON_AT);
  return `file://${dir}/${path.relative(WASMOON_DIR, fileURLToPath(WASMOON_URL))}`;
}

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
  const bytecode = recordBundlePath(record, 'bytecode');
  const place = new Placement(options.view);
  const task = showTask(place, options);
  const node = showNode(place);
  const shim = showShim(place, LUA_SHIM, { wasmoon: wasmoonUrl(place) });
  return {
    command: node,
    args: [`--max-old-space-size=${Math.max(64, Math.floor(spec.memory / 2))}`, shim],
    env: {
      ...BASE_ENV,
      ...taskEnv(task),
      ...spec.env,
      ...controlEnv(options),
      [ENV.bytecode]: `${task}/${bytecode}`,
      [ENV.bundle]: task,
      [ENV.luaMemory]: String(luaMemoryBytes(spec)),
      [ENV.luaTimeout]: String(spec.lua?.timeout ?? 0),
    },
    cwd: task,
    mounts: place.mounts,
    stemCell: true,
  };
}
