/**
 * Which python3 runs functions and their builds: `KUMO_PYTHON` when set, else the Debian
 * interpreter at /usr/bin/python3, else the first python3 on the server's PATH. Looked up once
 * per server on the host, never from a bundle; its installation prefix is what a sandbox must
 * show for it to start (the standard library lives there).
 */
import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';

/** A python interpreter: the binary to run and the folders it reads at start. */
export interface Interpreter {
  executable: string;
  /** sys.base_prefix and sys.prefix, plus the binary's folder. */
  readPaths: string[];
  version: string;
}

let found: Interpreter | null | undefined;

/** The server's interpreter, or null when there is none (looked up once, then remembered). */
export function findPython(env: NodeJS.ProcessEnv = process.env): Interpreter | null {
  if (found !== undefined) return found;
  const candidates = [
    env.KUMO_PYTHON,
    '/usr/bin/python3',
    ...(env.PATH ?? '')
      .split(':')
      .filter((dir) => path.isAbsolute(dir))
      .map((dir) => path.join(dir, 'python3')),
  ];
  found = null;
  for (const candidate of candidates) {
    if (!candidate || !path.isAbsolute(candidate)) continue;
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const probe =
      'import json, sys; print(json.dumps([sys.executable, sys.base_prefix, sys.prefix, sys.version.split()[0]]))';
    const stdout = execFileSync(candidate, ['-I', '-c', probe], {
      timeout: 10_000,
      encoding: 'utf8',
      env: {},
    });
    const [executable, basePrefix, prefix, version] = JSON.parse(stdout) as [string, string, string, string];
    found = { executable, readPaths: [...new Set([path.dirname(executable), basePrefix, prefix])], version };
    break;
  }
  return found;
}

/** The interpreter instances run; throws instance_failed_to_start when the server has none. */
export function pythonInterpreter(): Interpreter {
  const python = findPython();
  if (python) return python;
  throw new KumoError(
    'instance_failed_to_start',
    'no python3 on this server: install it (apt-get install python3) or set KUMO_PYTHON',
  );
}
