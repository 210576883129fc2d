/**
 * Which files of a function folder go into the bundle: `.gitignore` and `.kumoignore` at any depth, with
 * git's precedence (a deeper file overrides a shallower one, `!pattern` re-includes), and `node_modules/`
 * and `.git/` always left out because the server installs dependencies itself and history is not code.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';

/** The names of the files whose patterns are honoured, read in this order (so .kumoignore can negate .gitignore). */
export const IGNORE_FILES = ['.gitignore', '.kumoignore'] as const;

/** Directory names never packaged, whatever the ignore files say. */
const ALWAYS_EXCLUDED = new Set(['node_modules', '.git']);

/** The rules of one folder, with the folder (relative to the bundle root, '' for the root) they are relative to. */
interface RuleSet {
  base: string;
  rules: Ignore;
}

/** The ignore rules in force inside one folder: its ancestors' rules, then its own. */
export class IgnoreRules {
  readonly #sets: readonly RuleSet[];

  private constructor(sets: readonly RuleSet[]) {
    this.#sets = sets;
  }

  /** No rules yet: the state above the bundle root. */
  static empty(): IgnoreRules {
    return new IgnoreRules([]);
  }

  /** The rules for folder `dir` (relative to the root, posix separators): these plus its own ignore files. */
  async enter(root: string, dir: string): Promise<IgnoreRules> {
    const rules = ignore();
    let found = false;
    for (const file of IGNORE_FILES) {
      const text = await readOptional(path.join(root, dir, file));
      if (text === undefined) continue;
      // One add() per file: ignore splits a string into lines, but takes each array element as one pattern.
      rules.add(text);
      found = true;
    }
    return found ? new IgnoreRules([...this.#sets, { base: dir, rules }]) : this;
  }

  /** Whether the entry at `relPath` (posix, relative to the root) is left out of the bundle. */
  excludes(relPath: string, isDirectory: boolean): boolean {
    // By name whatever the type: a `.git` file is a worktree or submodule pointer, not code either.
    if (ALWAYS_EXCLUDED.has(path.posix.basename(relPath))) return true;
    let excluded = false;
    // The deepest rule set with a verdict wins, as in git; a set with no matching rule leaves it as it was.
    for (const { base, rules } of this.#sets) {
      const rel = (base === '' ? relPath : path.posix.relative(base, relPath)) + (isDirectory ? '/' : '');
      const verdict = rules.test(rel);
      if (verdict.ignored) excluded = true;
      else if (verdict.unignored) excluded = false;
    }
    return excluded;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR'))
      return undefined;
    throw err;
  }
}

/** Whether `err` is a Node system error carrying an errno code. */
export function isErrno(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err && typeof err.code === 'string';
}
