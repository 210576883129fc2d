/**
 * The exec runtime's build, inside the build sandbox: settle the program to run (command.ts) and
 * return the launch record. Nothing of the function runs.
 */
import { KumoError } from '../../core/index.ts';
import type { BuildContext, LaunchRecord } from '../runtime.ts';
import { resolveCommand } from './command.ts';

/** Builds `ctx.dir` (checks its command). */
export async function buildExec(ctx: BuildContext): Promise<LaunchRecord> {
  const command = ctx.spec.command;
  if (!command) {
    throw new KumoError(
      'invalid_manifest',
      'manifest: runtime exec needs "command" (e.g. command: "jq -c ." or command: ./run.sh)',
    );
  }
  const resolved = await resolveCommand(ctx.dir, command);
  ctx.log(
    `command: ${JSON.stringify(resolved.program)} ${resolved.args.map((w) => JSON.stringify(w)).join(' ')}`,
  );
  ctx.log(`built ${ctx.spec.name}: runs ${command[0]} per request`);
  return { program: resolved.program, args: resolved.args };
}
