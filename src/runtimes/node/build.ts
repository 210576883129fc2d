/**
 * The node runtime's build, run inside the build sandbox on the bundle in `ctx.dir`: resolve the
 * handler, install npm dependencies, bundle a TypeScript entry (or syntax-check a JavaScript one)
 * and return the launch record.
 */
import { KumoError } from '../../core/index.ts';
import type { BuildContext, LaunchRecord } from '../runtime.ts';
import { BASE_ENV } from '../launch-record.ts';
import { runCommand } from '../run-command.ts';
import type { LaunchInfo } from './artefact.ts';
import { bundleTypeScript } from './bundle.ts';
import { dependencyNames, installDependencies } from './dependencies.ts';
import { isTypeScript, resolveEntry } from './entry.ts';
import { parsesQuickly } from './syntax.ts';

/** Builds `ctx.dir` in place (see the module comment). */
export async function buildNode(ctx: BuildContext): Promise<LaunchRecord> {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    ctx.log(line);
  };
  const collected = () => lines.join('\n');
  try {
    const entry = await resolveEntry(ctx.dir, ctx.spec.handler);
    log(`handler: ${entry.file}${entry.exportName ? `, export ${entry.exportName}` : ''}`);
    const deps = await dependencyNames(ctx.dir);
    if (deps.length > 0) await installDependencies(ctx.dir, ctx.tools, log, ctx.signal, collected);
    ctx.signal.throwIfAborted();
    let runFile = entry.file;
    if (isTypeScript(entry.file)) runFile = await bundleTypeScript(ctx.dir, entry.file, log, collected);
    else await checkSyntax(ctx, entry.file, log, collected);
    ctx.signal.throwIfAborted();
    log(`built ${ctx.spec.name}: runs ${runFile}`);
    const info: LaunchInfo = { entry: runFile, exportName: entry.exportName, style: ctx.spec.style };
    return { ...info };
  } catch (err) {
    if (ctx.signal.aborted)
      throw new KumoError('build_failed', 'the build was cancelled', { log: collected() });
    throw err;
  }
}

/**
 * A syntax check of a JavaScript entry, so a syntax error fails the deploy rather than the first
 * request: parsed in this process when it can be (syntax.ts), else `node --check`.
 */
async function checkSyntax(
  ctx: BuildContext,
  file: string,
  log: (line: string) => void,
  collected: () => string,
): Promise<void> {
  if (await parsesQuickly(ctx.dir, file)) {
    log(`syntax of ${file}: ok`);
    return;
  }
  const output: string[] = [];
  const result = await runCommand(ctx.tools.node, ['--check', file], {
    cwd: ctx.dir,
    env: { PATH: BASE_ENV.PATH },
    log: (line) => {
      output.push(line);
      log(line);
    },
    signal: ctx.signal,
  });
  if (result.code !== 0) {
    const summary =
      output.find((line) => /Error/.test(line)) ?? `node --check exited with code ${result.code}`;
    throw new KumoError('build_failed', `${file} has a syntax error: ${summary.trim()}`, {
      log: collected(),
    });
  }
}
