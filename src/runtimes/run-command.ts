/**
 * Running a build tool (npm, node --check, pip, luac…) as a child process: its output goes line
 * by line to the build log, and an abort of the build kills it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** How to run one build command. */
export interface CommandOptions {
  cwd: string;
  env: Record<string, string>;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** The outcome of a command: its exit code (null when killed) and the signal that ended it. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs `command args`, logging every output line; rejects only when it cannot be started or is aborted. */
export async function runCommand(
  command: string,
  args: string[],
  options: CommandOptions,
): Promise<CommandResult> {
  options.signal.throwIfAborted();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: options.signal,
    killSignal: 'SIGKILL',
  });
  const lines = [forwardLines(child.stdout, options.log), forwardLines(child.stderr, options.log)];
  const result = await new Promise<CommandResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  await Promise.all(lines);
  return result;
}

/** Sends each line of `stream` to `log`; resolves when the stream ends. */
function forwardLines(stream: Readable, log: (line: string) => void): Promise<void> {
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  reader.on('line', log);
  return new Promise((resolve) => reader.once('close', resolve));
}
