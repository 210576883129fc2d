/**
 * The command line of one exec instance: Node (the binary running kumo) running the exec shim,
 * which runs the function's program once per request.
 */
import { fileURLToPath } from 'node:url';
import { ENV, KumoError } from '../../core/index.ts';
import { BASE_ENV, controlEnv, readLaunchRecord, taskEnv } from '../launch-record.ts';
import { Placement, showTask } from '../layout.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { showNode, showShim } from '../shim-bundle.ts';
import { checkProgram } from './command.ts';

/** The program every exec instance runs. */
export const EXEC_SHIM = fileURLToPath(new URL('../instance/exec/shim.ts', import.meta.url));

/** Plans an instance of the build in `options.buildDir`. */
export function launchExec(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const record = readLaunchRecord(buildDir, 'exec');
  const program = checkProgram(record.program);
  const args = record.args;
  if (!Array.isArray(args) || !args.every((w) => typeof w === 'string')) {
    throw new KumoError(
      'instance_failed_to_start',
      'the exec launch record has no arguments list: deploy again',
    );
  }
  const place = new Placement(options.view);
  const task = showTask(place, options);
  const node = showNode(place);
  const shim = showShim(place, EXEC_SHIM);
  const first = 'node' in program ? node : 'bundle' in program ? `${task}/${program.bundle}` : program.path;
  return {
    command: node,
    args: ['--max-old-space-size=64', shim],
    env: {
      ...BASE_ENV,
      ...taskEnv(task),
      ...spec.env,
      ...controlEnv(options),
      [ENV.command]: JSON.stringify([first, ...(args as string[])]),
    },
    cwd: task,
    mounts: place.mounts,
    stemCell: true,
  };
}
