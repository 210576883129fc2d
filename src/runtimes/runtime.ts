/**
 * The contract every language runtime fulfils: how to build a bundle and how to launch an
 * instance of the built artefact. A runtime knows nothing of pools, drivers or HTTP routing.
 *
 * A build runs inside the build sandbox (runtimes/build-shim.ts), never on the host: it sees the
 * bundle at a neutral path and returns a launch record, which kumo checks and keeps *outside*
 * the tenant's tree. `launch()` runs on the host and plans an instance from that record.
 */
import type { FunctionSpec } from '../core/index.ts';

/** What a build step receives. */
export interface BuildContext {
  /** The bundle (read-write, private to this build): /var/task inside the build sandbox. */
  dir: string;
  spec: FunctionSpec;
  /** The host's tools as the build sees them (see BuildTools). */
  tools: BuildTools;
  /** One line of build output, shown to the user and stored with the version. */
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Toolchain paths handed to a build by kumo (never looked up by name from the bundle). */
export interface BuildTools {
  /** The Node binary running the build (also the one instances run). */
  node: string;
  /** npm's entry script (`npm-cli.js`), run with `node`. */
  npmCli: string;
  /** The python interpreter, when the host has one. */
  python?: string;
}

/**
 * What a build leaves for `launch()`: plain JSON, produced inside the sandbox and so untrusted
 * until the runtime that reads it has checked every field (paths relative, inside the bundle).
 */
export type LaunchRecord = Record<string, unknown>;

/** A host path the instance sees read-only at `target` (the same path without a sandbox). */
export interface Mount {
  source: string;
  target: string;
}

/** How to start one instance: the driver runs `command args` with exactly `env`, in `cwd`. */
export interface LaunchPlan {
  command: string;
  args: string[];
  /** The complete environment of the instance: nothing of the server's leaks in. */
  env: Record<string, string>;
  /** Working directory (the bundle), as the instance sees it. */
  cwd: string;
  /** Host paths the instance must be able to read (runtime, shim, bundle) and where it sees them. */
  mounts: Mount[];
  /**
   * Whether the instance's shim can start as a stem cell: with ENV.stem set it listens with no
   * function loaded and takes the version's environment over its socket. Runtimes that cannot
   * (a custom runtime's bootstrap is the tenant's own program) leave it unset and always take
   * the ordinary path.
   */
  stemCell?: boolean;
}

/** What `launch` needs to know about the instance being started. */
export interface LaunchOptions {
  /** The build folder on the host: `task/` (the built bundle) and `launch.json` (the record). */
  buildDir: string;
  spec: FunctionSpec;
  version: number;
  /** The Unix socket the instance must listen on, as the instance sees it. */
  socketPath: string;
  /** Whether the instance gets the neutral view (a sandbox) or the host's paths (no sandbox). */
  view: PathView;
}

/** Neutral paths inside a sandbox (/var/task, /opt/kumo/…), or the host's own without one. */
export interface PathView {
  readonly neutral: boolean;
}

/** A language runtime. */
export interface Runtime {
  readonly name: string;
  /**
   * Builds the bundle in `ctx.dir` in place and returns its launch record. Throws KumoError
   * `build_failed` (with the log) when the code does not build, `unknown_handler` when the
   * handler file is missing.
   */
  build(ctx: BuildContext): Promise<LaunchRecord>;
  /** The command line of one instance of a built artefact. */
  launch(options: LaunchOptions): LaunchPlan;
}
