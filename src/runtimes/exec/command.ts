/**
 * Settling the program of an exec function, inside the build sandbox. `command[0]` may be a file
 * of the bundle (`./run.sh`, `bin/tool`, or a bare name that exists in the bundle), or a program
 * on the sandbox's PATH (`jq`, `python3`, or its full path such as `/usr/bin/jq`) — nothing else:
 * no other absolute path, nothing reached through `..` or a symlink leaving the bundle. A Windows
 * name (`jq.exe`) that is not in the bundle is looked up without its `.exe`, so ShortedFaaS's
 * run.json samples deploy unchanged. `node` is the Node that runs kumo's shims.
 */
import { access, chmod, constants, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';
import { insideBundle } from '../launch-record.ts';

/** The search path for programs named without a folder (the instance's PATH). */
export const PROGRAM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];

/** Interpreter names as run.json files write them, mapped to what Debian installs. */
const ALIASES: Record<string, string> = { python: 'python3' };

/** What an exec instance runs: a file of the bundle, a program on PATH, or kumo's Node. */
export type Program = { bundle: string } | { path: string } | { node: true };

/** A settled command: the program and its arguments. */
export interface ResolvedCommand {
  program: Program;
  args: string[];
}

/** Resolves `command` against the bundle in `dir` and the sandbox's programs. */
export async function resolveCommand(dir: string, command: string[]): Promise<ResolvedCommand> {
  const [first = '', ...args] = command;
  if (first === 'node' || first === 'nodejs') return { program: { node: true }, args };
  if (path.posix.isAbsolute(first)) return { program: { path: await onPath(first) }, args };
  const inBundle = first.includes('/') || (await isFile(path.join(dir, first)));
  if (inBundle) return { program: { bundle: await bundleProgram(dir, first) }, args };
  const name = ALIASES[first] ?? first.replace(/\.exe$/i, '');
  for (const folder of PROGRAM_PATH) {
    const candidate = path.posix.join(folder, name);
    if (!name.includes('/') && (await isExecutable(candidate))) return { program: { path: candidate }, args };
  }
  throw new KumoError(
    'build_failed',
    `command ${JSON.stringify(first)} is neither a file of the bundle nor a program on the sandbox's PATH (${PROGRAM_PATH.join(', ')}); install it or ship it in the bundle`,
    { log: `program not found: ${first}` },
  );
}

/** A bundle file named by `first`, checked to stay inside the bundle once symlinks are resolved. */
async function bundleProgram(dir: string, first: string): Promise<string> {
  const normal = path.posix.normalize(first);
  if (normal === '..' || normal.startsWith('../')) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "command" ${JSON.stringify(first)} must stay inside the bundle`,
    );
  }
  const root = await realpath(dir);
  const real = await realpath(path.join(dir, normal)).catch(() => undefined);
  if (real === undefined || !(await isFile(real)))
    throw new KumoError('unknown_handler', `command ${JSON.stringify(first)}: no such file in the bundle`);
  const rel = path.relative(root, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "command" ${JSON.stringify(first)} must stay inside the bundle`,
    );
  }
  // Archives (zip above all) often lose the executable bit; the manifest says it is a program.
  await chmod(real, 0o755);
  return rel;
}

/** An absolute command: allowed only as a program in a folder of PROGRAM_PATH. */
async function onPath(file: string): Promise<string> {
  const normal = path.posix.normalize(file);
  if (!PROGRAM_PATH.includes(path.posix.dirname(normal)) || !(await isExecutable(normal))) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "command" ${JSON.stringify(file)} must be a file of the bundle or a program in ${PROGRAM_PATH.join(', ')}`,
    );
  }
  return normal;
}

/** Checks a program read from a launch record: a bundle path, a PATH program or node. */
export function checkProgram(program: unknown): Program {
  const p = program as { bundle?: unknown; path?: unknown; node?: unknown } | null;
  if (p?.node === true) return { node: true };
  const bundle = typeof p?.bundle === 'string' ? insideBundle(p.bundle) : undefined;
  if (bundle !== undefined) return { bundle };
  if (typeof p?.path === 'string') {
    const normal = path.posix.normalize(p.path);
    if (PROGRAM_PATH.includes(path.posix.dirname(normal))) return { path: normal };
  }
  throw new KumoError(
    'instance_failed_to_start',
    'the exec launch record names no program this kumo runs: deploy again',
  );
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

async function isExecutable(file: string): Promise<boolean> {
  if (!(await isFile(file))) return false;
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}
