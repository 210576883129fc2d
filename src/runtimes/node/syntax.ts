/**
 * A quick syntax check of a JavaScript entry inside the build shim's own Node: V8 parses the file
 * (never runs it) as the module format Node would load it in. A file that parses is accepted with
 * no process started; one that does not is left to `node --check`, which gives Node's own message
 * with the line and a caret, so failures read exactly as before and only successes got faster.
 * ES modules are parsed with vm.SourceTextModule, which the build shim has (it runs with
 * --experimental-vm-modules); without it, everything goes to `node --check`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';

/** How Node would load a file: by extension, then the nearest package.json's `type`, else detection. */
export type ModuleFormat = 'module' | 'commonjs' | 'detect';

/** CommonJS's wrapper parameters, so a top-level `return` or `require` parses as Node's loader sees it. */
const CJS_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];

/** True when `dir/file` certainly parses as Node will load it; false when `node --check` must decide. */
export async function parsesQuickly(dir: string, file: string): Promise<boolean> {
  const SourceTextModule = (vm as { SourceTextModule?: new (code: string) => unknown }).SourceTextModule;
  const format = await moduleFormat(dir, file);
  if (format === undefined) return false;
  let code: string;
  try {
    code = await readFile(path.join(dir, file), 'utf8');
  } catch {
    return false;
  }
  const asScript = () => parses(() => vm.compileFunction(code.replace(/^#!.*/, ''), CJS_PARAMS));
  const asModule = () => SourceTextModule !== undefined && parses(() => new SourceTextModule(code));
  if (format === 'commonjs') return asScript();
  if (format === 'module') return asModule();
  return asScript() || asModule();
}

function parses(compile: () => unknown): boolean {
  try {
    compile();
    return true;
  } catch {
    return false;
  }
}

/**
 * The format Node gives `file` (relative to the bundle `dir`): `.mjs` and `.cjs` by name, `.js` by
 * the `type` of the nearest package.json inside the bundle (detection when it has none). Undefined
 * when that cannot be told here (an unreadable package.json): `node --check` then decides.
 */
export async function moduleFormat(dir: string, file: string): Promise<ModuleFormat | undefined> {
  if (file.endsWith('.mjs')) return 'module';
  if (file.endsWith('.cjs')) return 'commonjs';
  const root = path.resolve(dir);
  for (let at = path.dirname(path.resolve(root, file)); ; at = path.dirname(at)) {
    let text: string | undefined;
    try {
      text = await readFile(path.join(at, 'package.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    }
    if (text !== undefined) {
      try {
        const type = (JSON.parse(text) as { type?: unknown }).type;
        return type === 'module' ? 'module' : type === 'commonjs' ? 'commonjs' : 'detect';
      } catch {
        return undefined;
      }
    }
    if (at === root || !at.startsWith(`${root}${path.sep}`)) return 'detect';
  }
}
