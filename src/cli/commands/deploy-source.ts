/**
 * What `kumo deploy PATH` deploys when PATH is not a function folder: an archive (.zip, .tar.gz,
 * .tgz) uploaded as is, a single source file (hello.lua, lambda.py) packaged alone, or a git
 * repository (https://…/repo.git, git@host:owner/repo, file://…, or owner/repo when no such path
 * exists here) that the server clones. A project's other functions are listed after the first.
 */
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packFolder } from '../bundle.ts';
import type { CliIO } from '../io.ts';
import { CliError, write } from '../io.ts';
import type { DeployResult } from '../responses.ts';

/** A deploy target other than a folder. */
export type SourceTarget =
  | { kind: 'folder'; path: string }
  | { kind: 'archive'; path: string; type: 'application/zip' | 'application/gzip' }
  | { kind: 'file'; path: string }
  | { kind: 'template'; path: string }
  | { kind: 'git'; repository: string };

const GIT_URL = /^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:)/;
const OWNER_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Classifies the PATH argument of `kumo deploy`. */
export async function classifyTarget(arg: string, cwd: string): Promise<SourceTarget> {
  if (GIT_URL.test(arg)) return { kind: 'git', repository: arg };
  const abs = path.resolve(cwd, arg);
  const st = await stat(abs).catch(() => undefined);
  if (!st) {
    // owner/repo, unless its first part is a folder here (then it is a mistyped path).
    const firstIsFolder = (
      await stat(path.resolve(cwd, arg.split('/')[0] ?? '')).catch(() => undefined)
    )?.isDirectory();
    if (OWNER_REPO.test(arg) && !arg.startsWith('.') && !firstIsFolder)
      return { kind: 'git', repository: arg };
    return { kind: 'folder', path: abs };
  }
  if (st.isDirectory()) return { kind: 'folder', path: abs };
  if (/\.zip$/i.test(abs)) return { kind: 'archive', path: abs, type: 'application/zip' };
  if (/\.(tar\.gz|tgz)$/i.test(abs)) return { kind: 'archive', path: abs, type: 'application/gzip' };
  if (/\.(ya?ml|json)$/i.test(abs) && (await isSamTemplate(abs))) return { kind: 'template', path: abs };
  return { kind: 'file', path: abs };
}

/** Whether `file` is a SAM template (its folder is deployed, the server reads the template). */
async function isSamTemplate(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.includes('AWS::Serverless-2016-10-31');
}

/** Prints what a SAM template asked for that kumo did not deploy. */
export async function printIgnored(io: CliIO, result: DeployResult, json: boolean): Promise<void> {
  const ignored = (result as { ignored?: unknown }).ignored;
  if (json || !Array.isArray(ignored) || ignored.length === 0) return;
  await write(io.stderr, `kumo: note: ignored by kumo (not deployed): ${ignored.map(String).join(', ')}\n`);
}

/** The body, content type and name fallback of a non-folder target. */
export async function targetBody(
  target: Exclude<SourceTarget, { kind: 'folder' } | { kind: 'template' }>,
  warn: (message: string) => void,
): Promise<{ body: Buffer; type: string; fallbackName?: string; label: string }> {
  switch (target.kind) {
    case 'git':
      return {
        body: Buffer.from(JSON.stringify({ repository: target.repository })),
        type: 'application/json',
        label: target.repository,
      };
    case 'archive':
      return {
        body: await readFile(target.path),
        type: target.type,
        fallbackName: nameOf(target.path),
        label: path.basename(target.path),
      };
    case 'file': {
      // One file deploys as a folder holding just it (the lua action server's `create hello -f hello.lua`).
      const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-file-'));
      try {
        await copyFile(target.path, path.join(dir, path.basename(target.path)));
        const bundle = await packFolder(dir, { onWarning: warn });
        return {
          body: bundle.data,
          type: 'application/gzip',
          fallbackName: nameOf(target.path),
          label: path.basename(target.path),
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

/** `evil.lua` → `evil`, `fn.tar.gz` → `fn` (lower-cased, other characters as "-"). */
function nameOf(file: string): string | undefined {
  const base = path.basename(file).replace(/\.(tar\.gz|tgz|zip|[A-Za-z0-9]+)$/i, '');
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || undefined;
}

/** Prints the functions of a project after the first (which the progress lines already showed). */
export async function printOtherFunctions(io: CliIO, result: DeployResult, json: boolean): Promise<void> {
  const functions = (result as { functions?: unknown }).functions;
  if (json || !Array.isArray(functions)) return;
  for (const fn of functions.slice(1) as DeployResult[]) {
    const line = fn.created
      ? `${fn.function} is live at ${fn.url} (version ${fn.version})`
      : `${fn.function} is unchanged (version ${fn.version})`;
    await write(io.stdout, `${line}\n`);
  }
}

/** The error for a --ref given with something that is not a repository. */
export function refWithoutRepository(): CliError {
  return new CliError('--ref applies to git repositories only (kumo deploy https://…/repo.git --ref main)');
}
