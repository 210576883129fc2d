/**
 * The command line of one exec instance: Node (the binary running kumo) running the exec shim,
 * which runs the function's program once per request.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KumoError } from '../../core/index.ts';
import { BASE_ENV, controlEnv, readLaunchRecord } from '../launch-record.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { nodeInstallDir, shimBundle } from '../shim-bundle.ts';

/** The program every exec instance runs. */
export const EXEC_SHIM = fileURLToPath(new URL('./shim.ts', import.meta.url));

/** Plans an instance of the build in `options.buildDir`. */
export function launchExec(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const record = readLaunchRecord(buildDir, 'exec');
  const argv = record.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((w) => typeof w === 'string')) {
    throw new KumoError('instance_failed_to_start', 'the exec launch record has no command: deploy again');
  }
  const shim = shimBundle(EXEC_SHIM);
  const hostProgram = typeof record.hostProgram === 'string' ? [record.hostProgram] : [];
  return {
    command: process.execPath,
    args: ['--max-old-space-size=64', shim],
    env: {
      ...BASE_ENV,
      ...spec.env,
      ...controlEnv(options),
      KUMO_COMMAND: JSON.stringify(argv),
    },
    cwd: buildDir,
    readOnlyPaths: [nodeInstallDir(process.execPath), path.dirname(shim), buildDir, ...hostProgram],
  };
}
