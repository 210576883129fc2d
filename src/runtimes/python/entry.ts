/**
 * Finding the python module and function to run. The manifest's `handler` may be a file
 * (`app.py`), a file and function (`app.py:handler`), or Lambda's dotted `module.function`
 * (`lambda.main`, `pkg.mod.handler`). Without one, the first existing of DEFAULT_ENTRIES is used
 * and the function is picked by name at start (handler, lambda_handler, main).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';

/** Tried in order when the manifest names no handler (`lambda.py` is ShortedFaaS's, `lambda_function.py` AWS's). */
export const DEFAULT_ENTRIES = [
  'lambda.py',
  'lambda_function.py',
  'handler.py',
  'main.py',
  'app.py',
  'index.py',
  'function.py',
];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The module file (relative to the bundle) and the function it names, if any. */
export interface PythonEntry {
  file: string;
  exportName: string | null;
}

/** Resolves the handler inside `dir`; throws unknown_handler naming what it looked for. */
export async function resolvePythonEntry(dir: string, handler: string | undefined): Promise<PythonEntry> {
  if (!handler?.trim()) {
    for (const file of DEFAULT_ENTRIES) if (await isFile(dir, file)) return { file, exportName: null };
    throw new KumoError(
      'unknown_handler',
      `no handler file: none of ${DEFAULT_ENTRIES.join(', ')} exists in the bundle; add one or set "handler" in kumo.yaml`,
    );
  }
  const spec = handler.trim();
  const tried: string[] = [];
  for (const reading of readings(spec)) {
    if (!inside(reading.file)) {
      throw new KumoError(
        'unknown_handler',
        `handler "${spec}" must be a path inside the bundle (no "..", not absolute)`,
      );
    }
    if (await isFile(dir, reading.file)) return reading;
    tried.push(reading.file);
  }
  throw new KumoError(
    'unknown_handler',
    `handler "${spec}" not found: none of ${[...new Set(tried)].join(', ')} exists in the bundle`,
  );
}

/** The ways to read a handler string, most specific first. */
function readings(spec: string): PythonEntry[] {
  const colon = spec.lastIndexOf(':');
  if (colon > 0) {
    const fn = spec.slice(colon + 1);
    const file = spec.slice(0, colon);
    return IDENTIFIER.test(fn) ? [{ file: withPy(file), exportName: fn }] : [];
  }
  if (spec.endsWith('.py')) return [{ file: spec, exportName: null }];
  const out: PythonEntry[] = [];
  const dot = spec.lastIndexOf('.');
  if (dot > 0 && IDENTIFIER.test(spec.slice(dot + 1))) {
    out.push({ file: `${spec.slice(0, dot).split('.').join('/')}.py`, exportName: spec.slice(dot + 1) });
  }
  out.push({ file: `${spec.split('.').join('/')}.py`, exportName: null });
  return out;
}

function withPy(file: string): string {
  return file.endsWith('.py') ? file : `${file.split('.').join('/')}.py`;
}

function inside(file: string): boolean {
  const normal = path.posix.normalize(file);
  return !path.posix.isAbsolute(normal) && normal !== '..' && !normal.startsWith('../');
}

async function isFile(dir: string, file: string): Promise<boolean> {
  return (await stat(path.join(dir, file)).catch(() => undefined))?.isFile() ?? false;
}
