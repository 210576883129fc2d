/**
 * The command line of one node instance: Node 24 (the binary running kumo) with a heap limit
 * under the memory limit, running the shim, with an environment made only of the function's
 * variables, the basics, and the KUMO_* control variables the shim consumes.
 */
import { fileURLToPath } from 'node:url';
import { controlEnv, taskEnv } from '../launch-record.ts';
import { Placement, showTask } from '../layout.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { showNode, showShim } from '../shim-bundle.ts';
import { readLaunchInfo } from './artefact.ts';
import { ENV } from '../../core/index.ts';

/** The program every instance runs (bundled into plain JavaScript first: see shim-bundle.ts). */
export const SHIM_PATH = fileURLToPath(new URL('../instance/node/shim.ts', import.meta.url));

/** Share of the memory limit given to V8's old space; the rest is for buffers, code and the stack. */
const HEAP_SHARE = 0.75;

/** The basics every instance gets; the function's own variables may override them. */
const BASE_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', NODE_ENV: 'production' };

/** Plans an instance of the build in `options.buildDir` (reads its launch record). */
export function launchNode(options: LaunchOptions): LaunchPlan {
  const { spec } = options;
  const info = readLaunchInfo(options.buildDir);
  const place = new Placement(options.view);
  const task = showTask(place, options);
  const node = showNode(place);
  const shim = showShim(place, SHIM_PATH);
  const control: Record<string, string> = {
    ...controlEnv(options),
    [ENV.entry]: `${task}/${info.entry}`,
    [ENV.exportName]: info.exportName ?? '',
    [ENV.style]: info.style,
  };
  return {
    command: node,
    args: [`--max-old-space-size=${heapLimitMb(spec.memory)}`, '--enable-source-maps', shim],
    env: { ...BASE_ENV, ...taskEnv(task), ...spec.env, ...control },
    cwd: task,
    mounts: place.mounts,
    stemCell: true,
  };
}

/** The V8 heap limit for a memory limit, in MB. */
export function heapLimitMb(memoryMb: number): number {
  return Math.max(16, Math.floor(memoryMb * HEAP_SHARE));
}
