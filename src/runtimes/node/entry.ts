/**
 * Finding the module to run. The manifest's `handler` may be a file (`src/index.ts`,
 * `handler.js`), a folder (its index), or Lambda's `file.export` / `file:export` notation
 * (`index.handler`: the file index.{js,mjs,cjs,ts,mts}, export `handler`). Without one, the first
 * existing of DEFAULT_ENTRIES is used.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { KumoError } from '../../core/index.ts';

/** Tried in order when the manifest names no handler. */
export const DEFAULT_ENTRIES = [
  'index.ts',
  'index.mts',
  'index.js',
  'index.mjs',
  'index.cjs',
  'handler.ts',
  'handler.js',
];
/** Extensions tried for `file.export` and extensionless paths, in order. */
export const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];
/** Files that are TypeScript and so are bundled with esbuild. */
export const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];

const KNOWN_EXTENSION = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The resolved handler: a file relative to the bundle, and the export it names if any. */
export interface Entry {
  file: string;
  exportName: string | null;
}

/** Resolves the handler inside `dir`; throws unknown_handler naming everything it looked for. */
export async function resolveEntry(dir: string, handler: string | undefined): Promise<Entry> {
  if (handler === undefined || handler.trim() === '') {
    const file = await firstFile(dir, DEFAULT_ENTRIES);
    if (file) return { file, exportName: null };
    throw new KumoError(
      'unknown_handler',
      `no handler file: none of ${DEFAULT_ENTRIES.join(', ')} exists in the bundle; add one or set "handler" in kumo.yaml`,
    );
  }
  const spec = handler.trim();
  const safe = safeRelative(spec);
  if (safe === null) {
    throw new KumoError(
      'unknown_handler',
      `handler "${spec}" must be a path inside the bundle (no "..", not absolute)`,
    );
  }
  if (await isFile(join(dir, safe))) return { file: safe, exportName: null };
  const tried: string[] = [safe];
  for (const candidate of candidates(safe)) {
    const file = await firstFile(dir, candidate.files);
    if (file) return { file, exportName: candidate.exportName };
    tried.push(...candidate.files);
  }
  throw new KumoError(
    'unknown_handler',
    `handler "${spec}" not found: none of ${unique(tried).join(', ')} exists in the bundle`,
  );
}

/** The readings of a handler string that is not itself a file, most specific first. */
function candidates(path: string): { files: string[]; exportName: string | null }[] {
  const withExtensions = (base: string) => MODULE_EXTENSIONS.map((ext) => base + ext);
  const colon = path.lastIndexOf(':');
  if (colon > 0) {
    const file = path.slice(0, colon);
    const exportName = path.slice(colon + 1);
    if (!IDENTIFIER.test(exportName)) return [];
    return [{ files: [file, ...withExtensions(file)], exportName }];
  }
  const readings: { files: string[]; exportName: string | null }[] = [];
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot > slash + 1 && IDENTIFIER.test(path.slice(dot + 1)) && !KNOWN_EXTENSION.test(path)) {
    readings.push({ files: withExtensions(path.slice(0, dot)), exportName: path.slice(dot + 1) });
  }
  if (!KNOWN_EXTENSION.test(path)) {
    readings.push({ files: withExtensions(path), exportName: null });
    readings.push({
      files: DEFAULT_ENTRIES.filter((f) => f.startsWith('index.')).map((f) => `${path}/${f}`),
      exportName: null,
    });
  }
  return readings;
}

/** `path` normalised with forward slashes, or null when it leaves the bundle. */
function safeRelative(path: string): string | null {
  if (isAbsolute(path)) return null;
  const normal = normalize(path).split(sep).join('/');
  if (normal === '..' || normal.startsWith('../')) return null;
  return normal.replace(/^\.\//, '');
}

async function firstFile(dir: string, files: string[]): Promise<string | undefined> {
  for (const file of files) if (await isFile(join(dir, file))) return file;
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Whether a file is TypeScript (bundled) rather than JavaScript (run as is). */
export function isTypeScript(file: string): boolean {
  return TYPESCRIPT_EXTENSIONS.some((ext) => file.endsWith(ext));
}
