/** The runtimes this server builds and runs, by manifest name. */
import { KumoError } from '../core/index.ts';
import {
  execRuntime,
  luaRuntime,
  nodeRuntime,
  providedRuntime,
  pythonRuntime,
  type Runtime,
} from '../runtimes/index.ts';

const RUNTIMES: ReadonlyMap<string, Runtime> = new Map(
  [nodeRuntime, pythonRuntime, execRuntime, luaRuntime, providedRuntime].map((runtime) => [
    runtime.name,
    runtime,
  ]),
);

/** The runtime named `name`; throws invalid_manifest when this server has none of that name. */
export function runtimeFor(name: string): Runtime {
  const runtime = RUNTIMES.get(name);
  if (!runtime) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "runtime" ${JSON.stringify(name)} is not available (have: ${[...RUNTIMES.keys()].join(', ')})`,
    );
  }
  return runtime;
}
