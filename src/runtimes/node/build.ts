/**
 * The node runtime's build: copy the bundle into the build directory, resolve the handler,
 * install npm dependencies, bundle a TypeScript entry (or syntax-check a JavaScript one), and
 * leave a launch record for `launch()`.
 */
import { cp, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KumoError } from '../../core/index.ts';
import type { BuildContext } from '../runtime.ts';
import { writeLaunchInfo } from './artefact.ts';
import { bundleTypeScript } from './bundle.ts';
import { dependencyNames, installDependencies } from './dependencies.ts';
import { isTypeScript, resolveEntry } from './entry.ts';
import { runCommand } from '../run-command.ts';

/** Builds `ctx.sourceDir` into `ctx.outDir` (see the module comment). */
export async function buildNode(ctx: BuildContext): Promise<void> {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    ctx.log(line);
  };
  const collected = () => lines.join('\n');
  try {
    await copySource(ctx.sourceDir, ctx.outDir);
    const entry = await resolveEntry(ctx.outDir, ctx.spec.handler);
    log(`handler: ${entry.file}${entry.exportName ? `, export ${entry.exportName}` : ''}`);
    const deps = await dependencyNames(ctx.outDir);
    if (deps.length > 0) await installDependencies(ctx.outDir, log, ctx.signal, collected);
    ctx.signal.throwIfAborted();
    let runFile = entry.file;
    if (isTypeScript(entry.file)) runFile = await bundleTypeScript(ctx.outDir, entry.file, log, collected);
    else await checkSyntax(ctx.outDir, entry.file, log, ctx.signal, collected);
    ctx.signal.throwIfAborted();
    await writeLaunchInfo(ctx.outDir, {
      entry: runFile,
      exportName: entry.exportName,
      style: ctx.spec.style,
    });
    log(`built ${ctx.spec.name}: runs ${runFile}`);
  } catch (err) {
    if (ctx.signal.aborted)
      throw new KumoError('build_failed', 'the build was cancelled', { log: collected() });
    throw err;
  }
}

/** Copies the bundle into the build directory, keeping relative symlinks relative. */
async function copySource(sourceDir: string, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  if (resolve(sourceDir) === resolve(outDir)) return;
  await cp(sourceDir, outDir, { recursive: true, force: true, verbatimSymlinks: true });
}

/** `node --check` on a JavaScript entry, so a syntax error fails the deploy rather than the first request. */
async function checkSyntax(
  dir: string,
  file: string,
  log: (line: string) => void,
  signal: AbortSignal,
  collected: () => string,
): Promise<void> {
  const output: string[] = [];
  const result = await runCommand(process.execPath, ['--check', file], {
    cwd: dir,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    log: (line) => {
      output.push(line);
      log(line);
    },
    signal,
  });
  if (result.code !== 0) {
    const summary =
      output.find((line) => /Error/.test(line)) ?? `node --check exited with code ${result.code}`;
    throw new KumoError('build_failed', `${file} has a syntax error: ${summary.trim()}`, {
      log: collected(),
    });
  }
}
