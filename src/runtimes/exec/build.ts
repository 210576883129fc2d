/**
 * The exec runtime's build: copy the bundle, settle the program to run (command.ts) and leave a
 * launch record. Nothing of the function runs on the host.
 */
import { cp } from 'node:fs/promises';
import { KumoError } from '../../core/index.ts';
import { writeLaunchRecord } from '../launch-record.ts';
import type { BuildContext } from '../runtime.ts';
import { resolveCommand } from './command.ts';

/** Builds `ctx.sourceDir` into `ctx.outDir`. */
export async function buildExec(ctx: BuildContext): Promise<void> {
  const command = ctx.spec.command;
  if (!command) {
    throw new KumoError(
      'invalid_manifest',
      'manifest: runtime exec needs "command" (e.g. command: "jq -c ." or command: ./run.sh)',
    );
  }
  await cp(ctx.sourceDir, ctx.outDir, { recursive: true, force: true, verbatimSymlinks: true });
  const resolved = await resolveCommand(ctx.outDir, command);
  ctx.log(`command: ${resolved.argv.map((w) => JSON.stringify(w)).join(' ')}`);
  await writeLaunchRecord(ctx.outDir, 'exec', { argv: resolved.argv, hostProgram: resolved.hostProgram });
  ctx.log(`built ${ctx.spec.name}: runs ${command[0]} per request`);
}
