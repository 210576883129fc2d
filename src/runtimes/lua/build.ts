/**
 * The lua runtime's build, inside the build sandbox: find the action file, compile it to bytecode
 * once (compile.ts) into `.kumo/action.luac` in the bundle, and return the launch record. Bundled
 * modules that the action `require`s are compiled at start from their source.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../../core/index.ts';
import type { BuildContext, LaunchRecord } from '../runtime.ts';
import { compileLua } from './compile.ts';

/** The compiled action, relative to the bundle. */
export const BYTECODE_FILE = '.kumo/action.luac';
/** Tried in order when the manifest names no handler and the bundle has several .lua files. */
export const DEFAULT_ENTRIES = ['main.lua', 'index.lua', 'handler.lua', 'action.lua'];

/** Builds `ctx.dir` in place: compiles the action. */
export async function buildLua(ctx: BuildContext): Promise<LaunchRecord> {
  const entry = await resolveLuaEntry(ctx.dir, ctx.spec.handler, ctx.spec.name);
  ctx.log(`action: ${entry}`);
  const source = await readFile(path.join(ctx.dir, entry), 'utf8');
  const compiled = await compileLua(source, entry);
  if (!compiled.ok) {
    ctx.log(compiled.message);
    throw new KumoError('build_failed', `${entry} does not compile: ${compiled.message}`, {
      log: compiled.message,
    });
  }
  await mkdir(path.join(ctx.dir, path.dirname(BYTECODE_FILE)), { recursive: true });
  await writeFile(path.join(ctx.dir, BYTECODE_FILE), compiled.bytecode);
  ctx.log(`built ${ctx.spec.name}: ${entry} compiled to ${compiled.bytecode.length} bytes of bytecode`);
  return { entry, bytecode: BYTECODE_FILE };
}

/** The action file: the manifest's handler, the only .lua file, NAME.lua, or a default name. */
async function resolveLuaEntry(dir: string, handler: string | undefined, name: string): Promise<string> {
  if (handler?.trim()) {
    const file = path.posix.normalize(handler.trim().replace(/:main$/, ''));
    const withExt = file.endsWith('.lua') ? file : `${file}.lua`;
    if (path.posix.isAbsolute(withExt) || withExt.startsWith('../')) {
      throw new KumoError('unknown_handler', `handler "${handler}" must be a path inside the bundle`);
    }
    if (await isFile(path.join(dir, withExt))) return withExt;
    throw new KumoError('unknown_handler', `handler "${handler}" not found: ${withExt} is not in the bundle`);
  }
  const top = (await readdir(dir)).filter((f) => f.endsWith('.lua')).sort();
  if (top.length === 1 && top[0]) return top[0];
  for (const file of [`${name}.lua`, ...DEFAULT_ENTRIES]) if (top.includes(file)) return file;
  throw new KumoError(
    'unknown_handler',
    top.length === 0
      ? 'no .lua file in the bundle: add the action (e.g. hello.lua with function main(args))'
      : `several .lua files (${top.join(', ')}): set "handler" in kumo.yaml to the action file`,
  );
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}
