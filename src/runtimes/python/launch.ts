/**
 * The command line of one python instance: the interpreter recorded at build, unbuffered, running
 * the standard-library shim, with an environment made only of the function's variables, the
 * basics, and the KUMO_* control variables the shim takes out.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_ENV, controlEnv, readLaunchRecord, recordString } from '../launch-record.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { SITE_PACKAGES } from './build.ts';

/** The program every python instance runs. */
export const PYTHON_SHIM = fileURLToPath(new URL('./shim.py', import.meta.url));

/** Plans an instance of the build in `options.buildDir`. */
export function launchPython(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const record = readLaunchRecord(buildDir, 'python');
  const readPaths = Array.isArray(record.readPaths)
    ? record.readPaths.filter((p): p is string => typeof p === 'string')
    : [];
  const exportName = typeof record.exportName === 'string' ? record.exportName : '';
  const control = {
    ...controlEnv(options),
    KUMO_ENTRY: path.join(buildDir, recordString(record, 'entry')),
    KUMO_EXPORT: exportName,
    KUMO_STYLE: recordString(record, 'style'),
    KUMO_PATHS: [buildDir, path.join(buildDir, SITE_PACKAGES)].join(':'),
  };
  return {
    command: recordString(record, 'python'),
    // -u: every line reaches the log at once; -B: the build folder is read-only in the sandbox.
    args: ['-u', '-B', PYTHON_SHIM],
    env: { ...BASE_ENV, PYTHONUNBUFFERED: '1', ...spec.env, ...control },
    cwd: buildDir,
    readOnlyPaths: [...readPaths, path.dirname(PYTHON_SHIM), buildDir],
  };
}
