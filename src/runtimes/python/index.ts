/** The python runtime: the machine's python3 under a standard-library shim. */
import type { Runtime } from '../runtime.ts';
import { buildPython } from './build.ts';
import { launchPython } from './launch.ts';

/** Runs `handler(event, context)` and `main(input, environment)` functions on python3. */
export const pythonRuntime: Runtime = {
  name: 'python',
  build: buildPython,
  launch: launchPython,
};
