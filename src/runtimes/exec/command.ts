/**
 * Settling the program of an exec function at build time. `command[0]` may be a file of the
 * bundle (`./run.sh`, `bin/tool`, or a bare name that exists in the bundle), or a program on the
 * server's PATH (`jq`, `python3`). A Windows name (`jq.exe`) that is not in the bundle is looked
 * up without its `.exe`, so ShortedFaaS's run.json samples deploy unchanged.
 */
import { access, chmod, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';

/** The search path for programs named without a folder (the instance's PATH). */
export const PROGRAM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];

/** Interpreter names as run.json files write them, mapped to what Debian installs. */
const ALIASES: Record<string, string> = {
  python: 'python3',
  node: process.execPath,
  nodejs: process.execPath,
};

/** A settled command: the argv to run and the host file it needs to read, if outside the bundle. */
export interface ResolvedCommand {
  argv: string[];
  hostProgram: string | null;
}

/** Resolves `command` against the build directory `dir` and the server's programs. */
export async function resolveCommand(dir: string, command: string[]): Promise<ResolvedCommand> {
  const [first = '', ...rest] = command;
  const inBundle = first.includes('/')
    ? first
    : (await isFile(path.join(dir, first)))
      ? `./${first}`
      : undefined;
  if (inBundle !== undefined) {
    const normal = path.posix.normalize(inBundle);
    if (path.posix.isAbsolute(normal)) return hostProgram(normal, rest);
    if (normal === '..' || normal.startsWith('../')) {
      throw new KumoError(
        'invalid_manifest',
        `manifest: "command" ${JSON.stringify(first)} must stay inside the bundle`,
      );
    }
    const file = path.join(dir, normal);
    if (!(await isFile(file)))
      throw new KumoError('unknown_handler', `command ${JSON.stringify(first)}: no such file in the bundle`);
    // Archives (zip above all) often lose the executable bit; the manifest says it is a program.
    await chmod(file, 0o755);
    return { argv: [file, ...rest], hostProgram: null };
  }
  const name = ALIASES[first] ?? first.replace(/\.exe$/i, '');
  if (path.isAbsolute(name)) return hostProgram(name, rest);
  for (const folder of PROGRAM_PATH) {
    const candidate = path.join(folder, name);
    if (await isExecutable(candidate)) return { argv: [candidate, ...rest], hostProgram: candidate };
  }
  throw new KumoError(
    'build_failed',
    `command ${JSON.stringify(first)} is neither a file of the bundle nor a program on this server (looked in ${PROGRAM_PATH.join(', ')}); install it or ship it in the bundle`,
    { log: `program not found: ${first}` },
  );
}

async function hostProgram(file: string, rest: string[]): Promise<ResolvedCommand> {
  if (!(await isExecutable(file))) {
    throw new KumoError('build_failed', `command ${file} is not an executable program on this server`, {
      log: `not executable: ${file}`,
    });
  }
  return { argv: [file, ...rest], hostProgram: file };
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
