/**
 * Running a build tool (python3 -m compileall, pip, luac) for the python, exec and lua runtimes:
 * output goes line by line to the build log, an abort kills it, and a non-zero exit becomes
 * build_failed naming the tool and carrying the log.
 */
import { KumoError } from '../core/index.ts';
import { runCommand, type CommandResult } from './run-command.ts';

/** How to run one tool. */
export interface ToolOptions {
  cwd: string;
  env: Record<string, string>;
  log: (line: string) => void;
  signal: AbortSignal;
  /** What the user is told failed, e.g. "pip install -r requirements.txt". */
  what: string;
  /** The whole build log so far, attached to the error. */
  collected: () => string;
}

/** Runs `command args`; resolves with its output lines, throws build_failed when it fails. */
export async function runTool(command: string, args: string[], o: ToolOptions): Promise<string[]> {
  o.signal.throwIfAborted();
  const output: string[] = [];
  const log = (line: string) => {
    output.push(line);
    o.log(line);
  };
  let result: CommandResult;
  try {
    result = await runCommand(command, args, { cwd: o.cwd, env: o.env, signal: o.signal, log });
  } catch (err) {
    if (o.signal.aborted)
      throw new KumoError('build_failed', 'the build was cancelled', { log: o.collected() });
    throw new KumoError('build_failed', `could not run ${o.what}: ${(err as Error).message}`, {
      log: o.collected(),
    });
  }
  if (result.code !== 0) {
    const last = output.filter((l) => l.trim() !== '').slice(-1)[0] ?? `exit code ${result.code}`;
    throw new KumoError('build_failed', `${o.what} failed: ${last.trim()}`, { log: o.collected() });
  }
  return output;
}

/** A build log that also collects its lines, for the errors above. */
export function collectingLog(log: (line: string) => void): {
  log: (line: string) => void;
  collected: () => string;
} {
  const lines: string[] = [];
  return {
    log: (line) => {
      lines.push(line);
      log(line);
    },
    collected: () => lines.join('\n'),
  };
}
