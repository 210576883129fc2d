/**
 * The contract every language runtime fulfils: how to build a bundle and how to launch an
 * instance of the built artefact. A runtime knows nothing of pools, drivers or HTTP routing.
 */
import type { FunctionSpec } from '../core/index.ts';

/** What a build step receives. `sourceDir` is a private copy of the bundle it may modify. */
export interface BuildContext {
  /** The extracted source bundle (read-write, private to this build). */
  sourceDir: string;
  /** Where the runnable artefact must be written; the instance sees this folder read-only. */
  outDir: string;
  spec: FunctionSpec;
  /** One line of build output, shown to the user and stored with the version. */
  log: (line: string) => void;
  signal: AbortSignal;
}

/** How to start one instance: the driver runs `command args` with exactly `env`, in `cwd`. */
export interface LaunchPlan {
  command: string;
  args: string[];
  /** The complete environment of the instance: nothing of the server's leaks in. */
  env: Record<string, string>;
  /** Working directory (the build artefact). */
  cwd: string;
  /** Host paths the instance must be able to read (runtime binary, shim, artefact), for sandboxes. */
  readOnlyPaths: string[];
}

/** What `launch` needs to know about the instance being started. */
export interface LaunchOptions {
  buildDir: string;
  spec: FunctionSpec;
  version: number;
  /** Unix socket the instance must listen on (the Instance protocol in DESIGN.md). */
  socketPath: string;
}

/** A language runtime. */
export interface Runtime {
  readonly name: string;
  /**
   * Builds `sourceDir` into `outDir`. Throws KumoError `build_failed` (with the log) when the
   * code does not build, `unknown_handler` when the handler file is missing.
   */
  build(ctx: BuildContext): Promise<void>;
  /** The command line of one instance of a built artefact. */
  launch(options: LaunchOptions): LaunchPlan;
}
