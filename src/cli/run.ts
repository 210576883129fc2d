/** `kumo COMMAND …`: dispatches to a command and turns every failure into one stderr line and an exit code. */
import pkg from '../../package.json' with { type: 'json' };
import type { Command } from './command.ts';
import { printText } from './command.ts';
import { aliasCommand } from './commands/alias.ts';
import { ACCESS_COMMANDS } from './commands/access-commands.ts';
import { ASYNC_COMMANDS } from './commands/async-commands.ts';
import { deleteCommand } from './commands/delete.ts';
import { deployCommand } from './commands/deploy.ts';
import { invokeCommand } from './commands/invoke.ts';
import { listCommand } from './commands/list.ts';
import { logsCommand } from './commands/logs.ts';
import { rollbackCommand } from './commands/rollback.ts';
import { routesCommand } from './commands/routes.ts';
import { versionsCommand } from './commands/versions.ts';
import { topLevelHelp, UP_USAGE } from './help.ts';
import type { CliIO } from './io.ts';
import { CliError, UsageError, write } from './io.ts';

/** The commands in the order `kumo --help` lists them. */
export const COMMANDS: readonly Command[] = [
  deployCommand,
  invokeCommand,
  listCommand,
  logsCommand,
  versionsCommand,
  rollbackCommand,
  deleteCommand,
  aliasCommand,
  routesCommand,
  ...ASYNC_COMMANDS,
  ...ACCESS_COMMANDS,
];

/** Runs `kumo` with `argv` (the arguments after "kumo"); resolves to the exit code: 0 ok, 1 failed, 2 bad usage. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const help = topLevelHelp(COMMANDS);
  try {
    const [first, ...rest] = argv;
    if (first === undefined) throw new UsageError('missing command', SHORT_HELP);
    if (first === '--help' || first === '-h') return await printText(io, help);
    if (first === 'help') {
      return await printText(io, rest[0] === undefined ? help : findCommand(rest[0]).usage);
    }
    if (first === '--version') return await printText(io, `kumo ${pkg.version}\n`);
    return await findCommand(first).run(rest, io);
  } catch (err) {
    return report(io, err);
  }
}

/** `up` is the server's: bin/kumo.js passes it in as `io.up`; without it only its help is known here. */
const upCommand: Command = {
  name: 'up',
  synopsis: '',
  summary: '',
  usage: UP_USAGE,
  async run(args, io) {
    if (io.up) return io.up(args, io);
    if (args.includes('--help') || args.includes('-h')) return printText(io, UP_USAGE);
    throw new CliError('`kumo up` starts the server and runs through bin/kumo.js: use `npx kumo up`', {
      exitCode: 2,
    });
  },
};

function findCommand(name: string): Command {
  const command = name === 'up' ? upCommand : COMMANDS.find((c) => c.name === name);
  if (command) return command;
  throw new UsageError(
    name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`,
    SHORT_HELP,
  );
}

/** What a usage error at the top level shows: the command names, not the whole help. */
const SHORT_HELP = `Usage: kumo COMMAND [options]
Commands: up, doctor, ${COMMANDS.map((c) => c.name).join(', ')}, help
Run 'kumo --help' for details.`;

/** The "Usage:" line of a command's help and where to read the rest, so that a typo costs three lines. */
function shortUsage(usage: string): string {
  const line = usage.split('\n').find((l) => l.startsWith('Usage: '));
  const command = line?.split(' ')[2];
  if (line === undefined || command === undefined || command === 'COMMAND') return usage.trimEnd();
  return `${line}\nRun 'kumo ${command} --help' for details.`;
}

/** One line on stderr (`kumo: message (code)`), plus the usage for a usage error; returns the exit code. */
async function report(io: CliIO, err: unknown): Promise<number> {
  if (err instanceof UsageError) {
    await write(io.stderr, `kumo: ${err.message}\n${shortUsage(err.usage)}\n`);
    return err.exitCode;
  }
  if (err instanceof CliError) {
    await write(io.stderr, `kumo: ${err.message}${err.code ? ` (${err.code})` : ''}\n`);
    return err.exitCode;
  }
  // Anything else is unexpected (a stream cut mid-body, a file unreadable): still one line, the message and its cause.
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  await write(io.stderr, `kumo: ${message}${cause}\n`);
  return 1;
}
