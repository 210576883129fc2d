/**
 * Shims that Node runs, as one plain JavaScript file each. Node strips TypeScript types at load
 * time with a WebAssembly transformer whose start-up (about 50 ms, measured) every cold start
 * would pay; instead esbuild bundles a shim and what it imports once per server process (a few
 * ms) into a private temporary folder the sandbox user can read, and instances run that file.
 * The source stays the `.ts` next to the runtime; nothing generated is kept in the repository.
 */
import { buildSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { KumoError } from '../core/index.ts';
import { NEUTRAL, type Placement } from './layout.ts';

let folder: string | undefined;
const bundles = new Map<string, string>();

/**
 * The bundled JavaScript of the shim whose TypeScript entry is `entry` (made on first use).
 * `externals` maps packages left out of the bundle to the file URL they are imported from (a
 * package that finds its own files next to itself, like wasmoon's WebAssembly module); the
 * sandbox must then show that package's folder.
 */
export function shimBundle(entry: string, externals: Record<string, string> = {}): string {
  const key = Object.keys(externals).length ? JSON.stringify([entry, externals]) : entry;
  const done = bundles.get(key);
  // Checked each time: a /tmp cleaner may remove files of a server that has run for weeks.
  if (done && existsSync(done)) return done;
  // Bundles of one shim pinned to other external URLs (a host view, a neutral one) are kept apart.
  const variant = key === entry ? '' : `-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
  const out = join(bundleFolder(), `${basename(dirname(entry))}-${basename(entry, '.ts')}${variant}.mjs`);
  try {
    buildSync({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      legalComments: 'none',
      logLevel: 'silent',
      external: Object.keys(externals),
    });
    pinExternals(out, externals);
    chmodSync(out, 0o644);
  } catch (err) {
    throw new KumoError(
      'instance_failed_to_start',
      `could not bundle the shim ${entry}: ${(err as Error).message}`,
    );
  }
  bundles.set(key, out);
  return out;
}

/** The bundled shim of `entry` as `place`'s instance sees it, with its folder shown. */
export function showShim(place: Placement, entry: string, externals: Record<string, string> = {}): string {
  const file = shimBundle(entry, externals);
  return `${place.show(dirname(file), NEUTRAL.shims)}/${basename(file)}`;
}

/** The Node binary running kumo as `place`'s instance sees it, with its installation shown. */
export function showNode(place: Placement): string {
  const dir = nodeInstallDir(process.execPath);
  return `${place.show(dir, NEUTRAL.node)}/${relative(dir, process.execPath)}`;
}

/**
 * Points each external import at its file URL (esbuild keeps the bare name, which Node would look
 * up from the bundle's folder, where there is no node_modules). Fails if an import is not there.
 */
function pinExternals(file: string, externals: Record<string, string>): void {
  let code = readFileSync(file, 'utf8');
  for (const [name, url] of Object.entries(externals)) {
    // Static imports, and dynamic ones of packages loaded only when needed.
    const forms = [
      [` from ${JSON.stringify(name)};`, ` from ${JSON.stringify(url)};`],
      [`import(${JSON.stringify(name)})`, `import(${JSON.stringify(url)})`],
    ] as const;
    if (!forms.some(([bare]) => code.includes(bare)))
      throw new Error(`the bundle does not import ${name} as expected`);
    for (const [bare, pinned] of forms) code = code.replaceAll(bare, pinned);
  }
  writeFileSync(file, code);
}

/**
 * The folder of this process's bundles: private name, readable by all, removed at exit. When it
 * has gone, a new one is made (never re-created under the old name, which someone else could
 * have taken meanwhile).
 */
function bundleFolder(): string {
  if (folder && existsSync(folder)) return folder;
  // Named like the server's other temporary folders (drivers/process/leftovers.ts), so a server
  // killed before its exit handler ran has its bundles swept by the next one.
  const made = mkdtempSync(join(tmpdir(), `kumo-shims-${process.pid}-`));
  chmodSync(made, 0o755);
  process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  folder = made;
  return made;
}

/** The folder of a Node installation (`<dir>/bin/node` → `<dir>`), which holds what the binary may load. */
export function nodeInstallDir(execPath: string): string {
  const bin = dirname(execPath);
  return bin.endsWith('/bin') ? dirname(bin) : bin;
}
