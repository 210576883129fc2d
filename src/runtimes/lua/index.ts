/** The lua runtime: Lua 5.4 actions in a WebAssembly VM with memory and time limits. */
import type { Runtime } from '../runtime.ts';
import { buildLua } from './build.ts';
import { launchLua } from './launch.ts';

/** Runs `main(args)` Lua actions, compiled once at deploy. */
export const luaRuntime: Runtime = {
  name: 'lua',
  build: buildLua,
  launch: launchLua,
};
