/**
 * The command line of one node instance: Node 24 (the binary running kumo) with a heap limit
 * under the memory limit, running the shim, with an environment made only of the function's
 * variables, the basics, and the KUMO_* control variables the shim consumes.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { nodeInstallDir, shimBundle } from '../shim-bundle.ts';
import { readLaunchInfo } from './artefact.ts';
import type { ControlVariable } from './control.ts';

/** The program every instance runs (bundled into plain JavaScript first: see shim-bundle.ts). */
export const SHIM_PATH = fileURLToPath(new URL('./shim.ts', import.meta.url));

/** Share of the memory limit given to V8's old space; the rest is for buffers, code and the stack. */
const HEAP_SHARE = 0.75;

/** The basics every instance gets; the function's own variables may override them. */
const BASE_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', NODE_ENV: 'production' };

/** Plans an instance of the build in `options.buildDir` (reads its launch record). */
export function launchNode(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const info = readLaunchInfo(buildDir);
  const shim = shimBundle(SHIM_PATH);
  const control: Record<ControlVariable, string> = {
    KUMO_SOCKET: options.socketPath,
    KUMO_ENTRY: join(buildDir, info.entry),
    KUMO_EXPORT: info.exportName ?? '',
    KUMO_STYLE: info.style,
    KUMO_FUNCTION: spec.name,
    KUMO_VERSION: String(options.version),
    KUMO_MEMORY: String(spec.memory),
    KUMO_TIMEOUT: String(spec.timeout),
    KUMO_ENV_KEYS: Object.keys(spec.env).join(','),
  };
  return {
    command: process.execPath,
    args: [`--max-old-space-size=${heapLimitMb(spec.memory)}`, '--enable-source-maps', shim],
    env: { ...BASE_ENV, ...spec.env, ...control },
    cwd: buildDir,
    readOnlyPaths: [nodeInstallDir(process.execPath), dirname(shim), buildDir],
  };
}

/** The V8 heap limit for a memory limit, in MB. */
export function heapLimitMb(memoryMb: number): number {
  return Math.max(16, Math.floor(memoryMb * HEAP_SHARE));
}
