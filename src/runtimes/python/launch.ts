/**
 * The command line of one python instance: the server's interpreter (interpreter.ts), unbuffered,
 * running the standard-library shim, with an environment made only of the function's variables,
 * the basics, and the KUMO_* control variables the shim takes out.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BASE_ENV,
  controlEnv,
  readLaunchRecord,
  recordBundlePath,
  recordString,
  taskEnv,
} from '../launch-record.ts';
import { NEUTRAL, Placement, showTask } from '../layout.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { SITE_PACKAGES } from './build.ts';
import { pythonInterpreter } from './interpreter.ts';
import { ENV } from '../../core/index.ts';

/** The program every python instance runs. */
export const PYTHON_SHIM = fileURLToPath(new URL('../instance/python/shim.py', import.meta.url));

/** Plans an instance of the build in `options.buildDir`. */
export function launchPython(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const record = readLaunchRecord(buildDir, 'python');
  const entry = recordBundlePath(record, 'entry');
  const exportName = typeof record.exportName === 'string' ? record.exportName : '';
  const python = pythonInterpreter();
  const place = new Placement(options.view);
  // The interpreter's own folders are toolchain, shown where they are (most are under /usr).
  for (const dir of python.readPaths) place.show(dir, dir);
  const task = showTask(place, options);
  const shimDir = place.show(path.dirname(PYTHON_SHIM), NEUTRAL.python);
  const control = {
    ...controlEnv(options),
    [ENV.entry]: `${task}/${entry}`,
    [ENV.exportName]: exportName,
    [ENV.style]: recordString(record, 'style'),
    [ENV.paths]: [task, `${task}/${SITE_PACKAGES}`].join(':'),
  };
  return {
    command: python.executable,
    // -u: every line reaches the log at once; -B: the bundle is read-only in the sandbox.
    args: ['-u', '-B', `${shimDir}/${path.basename(PYTHON_SHIM)}`],
    env: { ...BASE_ENV, PYTHONUNBUFFERED: '1', ...taskEnv(task), ...spec.env, ...control },
    cwd: task,
    mounts: place.mounts,
    stemCell: true,
  };
}
