/**
 * ShortedFaaS's `run.json` translated to kumo's manifest. `executable` runs `command arguments`
 * over stdin/stdout (exec runtime). `interpreted` with a function to call — python `main(input,
 * environment)` / `handler(event, context)`, node `lambda(input, environment)`, any lua `main` —
 * becomes that language's runtime; an interpreted full program (no such function) runs as exec.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KumoError, splitCommandLine } from '../../core/index.ts';

/** The manifest file this module reads. */
export const RUN_JSON = 'run.json';

/** run.json as its design describes it. */
interface RunJson {
  type: 'executable' | 'interpreted';
  language?: string;
  command: string;
  arguments: string[];
}

function parseRunJson(text: string): RunJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KumoError('invalid_manifest', `run.json: not valid JSON (${(err as Error).message})`);
  }
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (r.type !== 'executable' && r.type !== 'interpreted') {
    throw new KumoError(
      'invalid_manifest',
      `run.json: "type" must be "executable" or "interpreted" (got ${JSON.stringify(r.type)})`,
    );
  }
  if (typeof r.command !== 'string' || r.command.trim() === '')
    throw new KumoError('invalid_manifest', 'run.json: "command" must name the program to run');
  const args = r.arguments;
  const list =
    args === undefined
      ? []
      : typeof args === 'string'
        ? splitCommandLine(args)
        : Array.isArray(args)
          ? args.map(String)
          : undefined;
  if (!list)
    throw new KumoError('invalid_manifest', 'run.json: "arguments" must be a string or a list of strings');
  return {
    type: r.type,
    language: typeof r.language === 'string' ? r.language.toLowerCase() : undefined,
    command: r.command.trim(),
    arguments: list,
  };
}

const PYTHON_FUNCTION = /^(?:async\s+)?def\s+(main|handler|lambda_handler)\s*\(/m;
const NODE_FUNCTION =
  /\b(?:exports\.(?:lambda|handler)|export\s+(?:async\s+)?function\s+(?:lambda|handler)|export\s+(?:const|let)\s+(?:lambda|handler)|module\.exports\s*=)/;

/** The kumo manifest fields for the run.json in `dir`, or undefined when there is none. */
export async function translateRunJson(dir: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, RUN_JSON), 'utf8');
  } catch {
    return undefined;
  }
  const run = parseRunJson(text);
  const [file, ...rest] = run.arguments;
  if (run.type === 'interpreted' && file) {
    const source = await readFile(path.join(dir, file), 'utf8').catch(() => '');
    const language = run.language ?? run.command;
    if (/^python/.test(language) && PYTHON_FUNCTION.test(source)) return { runtime: 'python', handler: file };
    if (/^(node|nodejs|javascript|js)$/.test(language) && NODE_FUNCTION.test(source))
      return { runtime: 'node', handler: file };
    if (/^lua/.test(language) && /\bfunction\s+main\s*\(/.test(source))
      return { runtime: 'lua', handler: file };
    return { runtime: 'exec', command: [run.command, file, ...rest] };
  }
  return { runtime: 'exec', command: [run.command, ...run.arguments] };
}
