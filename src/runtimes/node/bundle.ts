/**
 * Compiling a TypeScript entry: esbuild bundles the function's own files into one ES module with
 * a source map, leaving npm packages as imports resolved from the build's node_modules at run
 * time. esbuild strips types without checking them, so only syntax errors fail a build.
 *
 * The bundle sits next to the entry (`src/index.ts` → `src/index.kumo.mjs`), so that paths the
 * entry computes from `import.meta.url` or `__dirname` still point at its own folder. CommonJS
 * habits keep working in the ES module output: `__dirname` and `__filename` are injected, and a
 * module-scope `require` backs esbuild's own require shim.
 */
import { build, formatMessages } from 'esbuild';
import type { Message } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { KumoError } from '../../core/index.ts';
import { KUMO_DIR } from './artefact.ts';

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
  const out = bundlePath(file);
  log(`bundling ${file} into ${out} with esbuild`);
  const inject = join(dir, KUMO_DIR, 'cjs-globals.mjs');
  await mkdir(dirname(inject), { recursive: true });
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
  }
  return out;
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
  const formatted = await formatMessages(messages, { kind, color: false });
  for (const block of formatted) for (const line of block.trimEnd().split('\n')) log(line);
}
