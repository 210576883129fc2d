/**
 * Which python3 runs functions: `KUMO_PYTHON` when set, else the Debian interpreter at
 * /usr/bin/python3, else the first python3 on PATH. Its installation prefix is what a sandbox must
 * mount for it to start (the standard library lives there).
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { KumoError } from '../../core/index.ts';

/** A python interpreter: the binary to run and the folders it reads at start. */
export interface Interpreter {
  executable: string;
  /** sys.base_prefix and sys.prefix, plus the binary's folder. */
  readPaths: string[];
  version: string;
}

const run = promisify(execFile);

/** The interpreter for this server's environment `env`; throws build_failed when there is none. */
export async function findPython(env: NodeJS.ProcessEnv): Promise<Interpreter> {
  const candidates = [
    env.KUMO_PYTHON,
    '/usr/bin/python3',
    ...(env.PATH ?? '')
      .split(':')
      .filter(Boolean)
      .map((dir) => path.join(dir, 'python3')),
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      await access(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const probe =
      'import json, sys; print(json.dumps([sys.executable, sys.base_prefix, sys.prefix, sys.version.split()[0]]))';
    const { stdout } = await run(candidate, ['-I', '-c', probe], { timeout: 10_000 });
    const [executable, basePrefix, prefix, version] = JSON.parse(stdout) as [string, string, string, string];
    return { executable, readPaths: [...new Set([path.dirname(executable), basePrefix, prefix])], version };
  }
  throw new KumoError(
    'build_failed',
    'no python3 on this server: install it (apt-get install python3) or set KUMO_PYTHON',
    {
      log: 'python3 not found (looked at KUMO_PYTHON, /usr/bin/python3 and PATH)',
    },
  );
}
