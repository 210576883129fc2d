/**
 * The python runtime's build: copy the bundle, resolve the handler, install `requirements.txt`
 * into `.kumo/site-packages` (wheels only: building an sdist would run its setup code on the
 * host), byte-compile the function's files (a syntax error fails the deploy, not the first
 * request) and leave a launch record. The function's code is never run on the host.
 */
import { cp, stat } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';
import { writeLaunchRecord } from '../launch-record.ts';
import type { BuildContext } from '../runtime.ts';
import { collectingLog, runTool } from '../run-tool.ts';
import { resolvePythonEntry } from './entry.ts';
import { findPython } from './interpreter.ts';

/** Where requirements are installed, relative to the build directory. */
export const SITE_PACKAGES = '.kumo/site-packages';

/** Variables of the server that pip may need (index, proxy, certificates); nothing else is passed. */
const PIP_PASSTHROUGH = /^(?:pip_\w+|https?_proxy|no_proxy|ssl_cert_file|requests_ca_bundle)$/i;

const STYLES = ['auto', 'lambda', 'plain'];

/** Builds `ctx.sourceDir` into `ctx.outDir` (see the module comment). */
export async function buildPython(ctx: BuildContext): Promise<void> {
  const { log, collected } = collectingLog(ctx.log);
  if (!STYLES.includes(ctx.spec.style)) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "style" ${ctx.spec.style} is not a python style (use ${STYLES.join(', ')})`,
    );
  }
  await cp(ctx.sourceDir, ctx.outDir, { recursive: true, force: true, verbatimSymlinks: true });
  const entry = await resolvePythonEntry(ctx.outDir, ctx.spec.handler);
  log(`handler: ${entry.file}${entry.exportName ? `, function ${entry.exportName}` : ''}`);
  const python = await findPython(process.env);
  log(`python: ${python.executable} (${python.version})`);
  const env = toolEnv(process.env);
  const tool = { cwd: ctx.outDir, env, log, signal: ctx.signal, collected };
  if (await exists(path.join(ctx.outDir, 'requirements.txt'))) {
    log('$ pip install --only-binary=:all: --target .kumo/site-packages -r requirements.txt');
    await runTool(
      python.executable,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--no-warn-script-location',
        '--only-binary=:all:',
        '--target',
        SITE_PACKAGES,
        '-r',
        'requirements.txt',
      ],
      { ...tool, what: 'pip install -r requirements.txt' },
    );
  }
  // -x keeps kumo's own folder (installed packages) out: only the function's files must compile.
  await runTool(python.executable, ['-m', 'compileall', '-q', '-x', '(^|/)\\.kumo/', '.'], {
    ...tool,
    what: 'python3 -m compileall (a syntax error?)',
  });
  await writeLaunchRecord(ctx.outDir, 'python', {
    entry: entry.file,
    exportName: entry.exportName,
    style: ctx.spec.style,
    python: python.executable,
    readPaths: python.readPaths,
  });
  log(`built ${ctx.spec.name}: runs ${entry.file} on python ${python.version}`);
}

/** The environment of build tools: PATH and HOME, plus pip and proxy settings of the server. */
function toolEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {
    PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: env.HOME ?? '/tmp',
  };
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && PIP_PASSTHROUGH.test(key)) out[key] = value;
  return out;
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
