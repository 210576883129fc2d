/**
 * The command line of one build: kumo's Node running the build shim (build-shim.ts) with the
 * toolchain shown read-only at neutral paths — Node, npm, esbuild, wasmoon, python — and nothing
 * else of the host. The bundle is not a mount: the sandbox gives the build a private tmpfs at
 * `dir`, and the bundle arrives on stdin. Every tool is handed over by path (never looked up on
 * PATH, where a bundle could shadow it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionSpec } from '../core/index.ts';
import type { BuildJob } from './build-shim.ts';
import { BASE_ENV } from './launch-record.ts';
import { NEUTRAL, Placement } from './layout.ts';
import { wasmoonUrl } from './lua/launch.ts';
import { findPython } from './python/interpreter.ts';
import type { BuildTools, LaunchPlan, PathView } from './runtime.ts';
import { showNode, showShim } from './shim-bundle.ts';

/** The build shim's source. */
export const BUILD_SHIM = fileURLToPath(new URL('./build-shim.ts', import.meta.url));

/** What one build job needs. */
export interface BuildJobOptions {
  runtime: string;
  spec: FunctionSpec;
  view: PathView;
  /** The build's task folder as it sees it (NEUTRAL.task in a sandbox, a host folder without one). */
  dir: string;
  /** Settings for the package tools (registry, proxy): already limited to what `kumo up` allows. */
  env: Record<string, string>;
}

/** Plans the build shim run for one bundle. */
export function buildJobPlan(o: BuildJobOptions): LaunchPlan {
  const place = new Placement(o.view);
  const node = showNode(place);
  const esbuild = showEsbuild(place);
  const shim = showShim(place, BUILD_SHIM, { esbuild: esbuild.url, wasmoon: wasmoonUrl(place) });
  const python = findPython();
  if (python) for (const dir of python.readPaths) place.show(dir, dir);
  const npm = npmPackage();
  const npmCli = npm ? `${place.show(npm, NEUTRAL.npm)}/bin/npm-cli.js` : '';
  const job: BuildJob = {
    runtime: o.runtime,
    spec: o.spec,
    dir: o.dir,
    tools: { node, npmCli, ...(python ? { python: python.executable } : {}) },
  };
  return {
    command: node,
    // vm modules let the shim parse an ES module entry without starting `node --check` (node/syntax.ts).
    args: [
      '--max-old-space-size=512',
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
      shim,
    ],
    env: {
      ...o.env,
      ...BASE_ENV,
      ESBUILD_BINARY_PATH: esbuild.binary,
      KUMO_BUILD: JSON.stringify(job),
    },
    cwd: o.dir,
    mounts: place.mounts,
  };
}

/** esbuild's package and its native binary, shown at neutral paths. */
function showEsbuild(place: Placement): { url: string; binary: string } {
  const main = fileURLToPath(import.meta.resolve('esbuild'));
  const pkg = path.dirname(path.dirname(main));
  const require = createRequire(main);
  const binary = require.resolve(`@esbuild/${process.platform}-${process.arch}/bin/esbuild`);
  const binPkg = path.dirname(path.dirname(binary));
  const pkgAt = place.show(pkg, `${NEUTRAL.lib}/esbuild`);
  const binAt = place.show(binPkg, `${NEUTRAL.lib}/esbuild-bin`);
  return {
    url: `file://${pkgAt}/${path.relative(pkg, main)}`,
    binary: `${binAt}/${path.relative(binPkg, binary)}`,
  };
}

let npmFound: string | null | undefined;

/** npm's package folder on this server (found once: next to `npm` on PATH, else Debian's). */
function npmPackage(): string | null {
  if (npmFound !== undefined) return npmFound;
  npmFound = null;
  const candidates: string[] = [];
  try {
    const which = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8', timeout: 5000 }).trim();
    if (which) candidates.push(realpathSync(which));
  } catch {
    // no npm on PATH
  }
  candidates.push(
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  );
  for (const cli of candidates) {
    if (path.basename(cli) === 'npm-cli.js' && existsSync(cli)) {
      npmFound = path.dirname(path.dirname(cli));
      break;
    }
  }
  return npmFound;
}

/** The host's own tools, for running a runtime's build in-process (tests; never for tenants). */
export function hostBuildTools(): BuildTools {
  const npm = npmPackage();
  const python = findPython();
  return {
    node: process.execPath,
    npmCli: npm ? path.join(npm, 'bin/npm-cli.js') : '',
    ...(python ? { python: python.executable } : {}),
  };
}
