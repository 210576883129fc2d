/** The provided runtime: Lambda's custom runtimes, a `bootstrap` calling the Runtime API. */
import type { Runtime } from '../runtime.ts';
import { buildProvided } from './build.ts';
import { launchProvided } from './launch.ts';

/** Runs a bundle's `bootstrap` with AWS_LAMBDA_RUNTIME_API, as Lambda's `provided` runtimes do. */
export const providedRuntime: Runtime = {
  name: 'provided',
  build: buildProvided,
  launch: launchProvided,
};
