/**
 * The provided runtime's build, inside the build sandbox: check that the bundle has its
 * `bootstrap` (a file at the root, or a link to a file that stays inside the bundle), make it
 * executable (zip archives often lose the bit) and record it. Nothing of the function runs.
 */
import { chmod, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';
import type { BuildContext, LaunchRecord } from '../runtime.ts';

/** The program Lambda runs for a custom runtime, at the root of the bundle. */
export const BOOTSTRAP = 'bootstrap';

/** Builds `ctx.dir`: checks its bootstrap. */
export async function buildProvided(ctx: BuildContext): Promise<LaunchRecord> {
  if (ctx.spec.concurrency !== 1) {
    throw new KumoError(
      'invalid_manifest',
      `manifest: "concurrency" must be 1 for runtime provided (got ${ctx.spec.concurrency}): a Lambda runtime serves one invocation at a time, scale with "instances.max"`,
    );
  }
  const root = await realpath(ctx.dir);
  const real = await realpath(path.join(root, BOOTSTRAP)).catch(() => undefined);
  if (real === undefined || !(await stat(real)).isFile()) {
    throw new KumoError(
      'unknown_handler',
      'runtime provided needs an executable file named "bootstrap" at the root of the bundle (the program that calls the Lambda Runtime API)',
    );
  }
  const rel = path.relative(root, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new KumoError('unknown_handler', '"bootstrap" must stay inside the bundle (it links outside)');
  }
  await chmod(real, 0o755);
  ctx.log(`bootstrap: ${rel}${ctx.spec.handler ? `, _HANDLER=${ctx.spec.handler}` : ''}`);
  ctx.log(`built ${ctx.spec.name}: runs ./${BOOTSTRAP} against the Lambda Runtime API`);
  return { bootstrap: rel };
}
