/**
 * Compiling a TypeScript entry: esbuild bundles the function's own files into one ES module with
 * a source map, leaving npm packages as imports resolved from the build's node_modules at run
 * time. esbuild strips types without checking them, so only syntax errors fail a build.
 *
 * The bundle sits next to the entry (`src/index.ts` → `src/index.kumo.mjs`), so that paths the
 * entry computes from `import.meta.url` or `__dirname` still point at its own folder. CommonJS
 * habits keep working in the ES module output: `__dirname` and `__filename` are injected, and a
 * module-scope `require` backs esbuild's own require shim.
 *
 * Nothing outside the bundle may be pulled in: an import of an absolute path, or one that climbs
 * out of the bundle (even through a symlink), fails the build. The build already runs in the
 * sandbox, which shows no host file worth stealing; this makes the rule explicit and portable.
 */
import type { Message, Plugin } from 'esbuild';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { KumoError } from '../../core/index.ts';

/** Where the bundle of `file` goes, relative to the build directory. */
export function bundlePath(file: string): string {
  return join(dirname(file), `${basename(file, extname(file))}.kumo.mjs`);
}

/** Defines `__dirname` and `__filename` for code that uses them (esbuild replaces only free uses). */
const CJS_GLOBALS = `import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
const filename = fileURLToPath(import.meta.url);
export { filename as __filename };
export const __dirname = dirname(filename);
`;

/** esbuild renames every bundled top-level \`require\`, so this one cannot clash with the function's. */
const REQUIRE_BANNER = `import { createRequire as __kumoCreateRequire } from 'node:module';
const require = __kumoCreateRequire(import.meta.url);`;

/** Bundles `dir/file`; returns the bundle's path; throws build_failed with esbuild's messages in the log. */
export async function bundleTypeScript(
  dir: string,
  file: string,
  log: (line: string) => void,
  collected: () => string,
): Promise<string> {
  // Loaded on use: the build shim would otherwise pay esbuild's load on every build, TypeScript or not.
  const { build } = await import('esbuild');
  const out = bundlePath(file);
  log(`bundling ${file} into ${out} with esbuild`);
  // kumo's helper goes in the build's own /tmp, never into the tenant's tree.
  const helperDir = await mkdtemp(join(tmpdir(), 'kumo-esbuild-'));
  const inject = join(helperDir, 'cjs-globals.mjs');
  await writeFile(inject, CJS_GLOBALS);
  try {
    const result = await build({
      absWorkingDir: dir,
      entryPoints: [join(dir, file)],
      outfile: join(dir, out),
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      target: 'node24',
      sourcemap: true,
      inject: [inject],
      banner: { js: REQUIRE_BANNER },
      logLevel: 'silent',
      plugins: [stayInside(dir, inject)],
    });
    await logMessages(result.warnings, 'warning', log);
  } catch (err) {
    const errors = messagesOf(err);
    if (errors === undefined) throw err;
    await logMessages(errors, 'error', log);
    const first = errors[0];
    const where = first?.location
      ? `${first.location.file}:${first.location.line}:${first.location.column}: `
      : '';
    const summary = first ? `${where}${first.text}` : (err as Error).message;
    throw new KumoError('build_failed', `TypeScript build of ${file} failed: ${summary}`, {
      log: collected(),
    });
  } finally {
    await rm(helperDir, { recursive: true, force: true });
  }
  return out;
}

/** An esbuild plugin failing every import of a file outside `dir` (but kumo's own `inject`). */
function stayInside(dir: string, inject: string): Plugin {
  const root = realpathSync(dir);
  return {
    name: 'kumo-stay-inside',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || args.path === inject) return undefined;
        const spec = args.path;
        const local = isAbsolute(spec) || spec === '.' || spec === '..' || /^\.\.?\//.test(spec);
        if (!local) return undefined; // a package or node: builtin, left external
        const target = isAbsolute(spec) ? spec : resolve(args.resolveDir, spec);
        if (!isInside(root, realOrSelf(target)))
          return {
            errors: [
              {
                text: `import of ${JSON.stringify(spec)} leaves the bundle: only files of the bundle can be imported`,
              },
            ],
          };
        return undefined;
      });
    },
  };
}

/** The real path of `p` (symlinks resolved), or `p` itself when it does not exist yet. */
function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The errors of an esbuild BuildFailure, or undefined for any other error. */
function messagesOf(err: unknown): Message[] | undefined {
  const errors = (err as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? (errors as Message[]) : undefined;
}

/** Logs esbuild messages as it prints them (with the offending line), without colour. */
async function logMessages(
  messages: Message[],
  kind: 'error' | 'warning',
  log: (line: string) => void,
): Promise<void> {
  if (messages.length === 0) return;
  const formatted = await (await import('esbuild')).formatMessages(messages, { kind, color: false });
  for (const block of formatted) for (const line of block.trimEnd().split('\n')) log(line);
}
