/** The exec runtime: any program or script, run once per request over stdin and stdout. */
import type { Runtime } from '../runtime.ts';
import { buildExec } from './build.ts';
import { launchExec } from './launch.ts';

/** Runs executables and scripts: body → stdin, stdout → body, exit code → status. */
export const execRuntime: Runtime = {
  name: 'exec',
  build: buildExec,
  launch: launchExec,
};
