/**
 * The runtime of a function folder whose manifest does not say: lua when it holds only Lua, python
 * when it has a python entry and no JavaScript one, else node (kumo's default).
 */
import { readdir } from 'node:fs/promises';
import { DEFAULT_ENTRIES } from '../../runtimes/python/entry.ts';

const NODE_FILES = /^(index|handler)\.(m|c)?(j|t)s$|^package\.json$/;
/** The python runtime's own default entries: a folder with one of them is a python function. */
const PYTHON_ENTRIES = new Set(DEFAULT_ENTRIES);

/** The runtime name for the files at the top of `dir`. */
export async function detectRuntime(dir: string): Promise<'node' | 'python' | 'lua'> {
  const names = await readdir(dir);
  if (names.some((n) => NODE_FILES.test(n))) return 'node';
  if (names.some((n) => PYTHON_ENTRIES.has(n))) return 'python';
  if (names.some((n) => n.endsWith('.lua'))) return 'lua';
  return 'node';
}
