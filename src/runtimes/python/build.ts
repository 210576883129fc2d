/**
 * The python runtime's build, run inside the build sandbox on the bundle in `ctx.dir`: resolve
 * the handler, install `requirements.txt` into `.kumo/site-packages` (wheels only: building an
 * sdist would run its setup code), byte-compile the function's files (a syntax error fails the
 * deploy, not the first request) and return the launch record. Python runs isolated (`-I`): the
 * bundle is not on `sys.path` and no PYTHON* variable applies, so a bundle that ships its own
 * `compileall.py`, `pip.py` or `sitecustomize.py` cannot replace the tool.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';
import { BASE_ENV } from '../launch-record.ts';
import type { BuildContext, LaunchRecord } from '../runtime.ts';
import { collectingLog, runTool } from '../run-tool.ts';
import { resolvePythonEntry } from './entry.ts';

/** Where requirements are installed, relative to the bundle. */
export const SITE_PACKAGES = '.kumo/site-packages';

/** Variables given to the build that pip may need (index, proxy, certificates); nothing else is passed. */
const PIP_PASSTHROUGH = /^(?:pip_\w+|https?_proxy|no_proxy|ssl_cert_file|requests_ca_bundle)$/i;

const STYLES = ['auto', 'lambda', 'plain'];

/** Builds `ctx.dir` in place (see the module comment). */
export async function buildPython(ctx: BuildContext): Promise<LaunchRecord> {
  const { log, collected } = collectingLog(ctx.log);
  if (!STYLES.includes(ctx.spec.style)) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "style" ${ctx.spec.style} is not a python style (use ${STYLES.join(', ')})`,
    );
  }
  const entry = await resolvePythonEntry(ctx.dir, ctx.spec.handler);
  log(`handler: ${entry.file}${entry.exportName ? `, function ${entry.exportName}` : ''}`);
  const python = ctx.tools.python;
  if (!python) {
    throw new KumoError(
      'build_failed',
      'no python3 on this server: install it (apt-get install python3) or set KUMO_PYTHON',
      {
        log: 'python3 not found (looked at KUMO_PYTHON, /usr/bin/python3 and PATH)',
      },
    );
  }
  const tool = { cwd: ctx.dir, env: toolEnv(process.env), log, signal: ctx.signal, collected };
  if (await exists(path.join(ctx.dir, 'requirements.txt'))) {
    log('$ pip install --only-binary=:all: --target .kumo/site-packages -r requirements.txt');
    await runTool(
      python,
      [
        '-I',
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
  await runTool(python, ['-I', '-m', 'compileall', '-q', '-x', '(^|/)\\.kumo/', '.'], {
    ...tool,
    what: 'python3 -m compileall (a syntax error?)',
  });
  log(`built ${ctx.spec.name}: runs ${entry.file}`);
  return { entry: entry.file, exportName: entry.exportName, style: ctx.spec.style };
}

/** The environment of build tools: PATH and HOME, plus pip and proxy settings given to the build. */
function toolEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = { PATH: BASE_ENV.PATH, HOME: env.HOME ?? '/tmp' };
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && PIP_PASSTHROUGH.test(key)) out[key] = value;
  return out;
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
