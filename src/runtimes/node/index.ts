/** The node runtime: builds JavaScript and TypeScript functions and runs them under the shim. */
import type { Runtime } from '../runtime.ts';
import { buildNode } from './build.ts';
import { launchNode } from './launch.ts';

/** Runs functions on Node.js 24 in any of the four handler styles. */
export const nodeRuntime: Runtime = {
  name: 'node',
  build: buildNode,
  launch: launchNode,
};
