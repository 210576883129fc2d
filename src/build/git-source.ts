/**
 * Deploying from git: the server clones the repository (Debian's git) into a temporary folder at
 * the asked ref and reports the commit. Repositories are `https://…`, `http://…`, `ssh://…`,
 * `git@host:owner/repo`, or `owner/repo` on the configured base URL; `file://` and local paths
 * only when the operator allows them (they would let any deployer read the server's disk).
 * Git runs with no terminal prompts, no system or user config, and only the allowed protocols
 * (no `ext::` helper commands); `.git` is removed before the tree is checked and built.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KumoError } from '../core/index.ts';

const run = promisify(execFile);

/** How this server reaches repositories. */
export interface GitConfig {
  /** Prefix for `owner/repo` (default https://github.com/). */
  baseUrl: string;
  /** Allow file:// URLs and local paths (tests, single-user setups). */
  allowFile: boolean;
  /** Bound on each git command. */
  timeoutMs: number;
}

/** Defaults: GitHub, no local repositories, 2 minutes per command. */
export const DEFAULT_GIT_CONFIG: GitConfig = {
  baseUrl: 'https://github.com/',
  allowFile: false,
  timeoutMs: 120_000,
};

const SHA = /^[0-9a-f]{40}$/;
const REF = /^[A-Za-z0-9._/-]{1,200}$/;

/** The clone URL for what a user typed: a URL as is, `owner/repo` on the base URL. */
export function repositoryUrl(input: string, config: GitConfig): string {
  const value = input.trim();
  if (value.startsWith('-') || /[\s\0]/.test(value))
    throw new KumoError('bad_request', `repository ${JSON.stringify(input)} is not a git URL`);
  if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(value) && !value.startsWith('.')) {
    return `${config.baseUrl.replace(/\/?$/, '/')}${value}`;
  }
  const local = value.startsWith('file://') || value.startsWith('/') || value.startsWith('.');
  if (local && !config.allowFile) {
    throw new KumoError(
      'bad_request',
      `repository ${JSON.stringify(input)}: local repositories are disabled on this server (kumo up --allow-file-repos)`,
    );
  }
  if (local || /^(https?|ssh|git):\/\//.test(value) || /^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:/.test(value))
    return value;
  throw new KumoError(
    'bad_request',
    `repository ${JSON.stringify(input)} is not a git URL (https://…, ssh://…, git@host:owner/repo or owner/repo)`,
  );
}

/** Checks a ref (branch, tag or commit) before it reaches git's command line. */
export function checkRef(ref: string | undefined): string | undefined {
  if (ref === undefined || ref === '') return undefined;
  if (!REF.test(ref) || ref.startsWith('-') || ref.includes('..'))
    throw new KumoError('bad_request', `ref ${JSON.stringify(ref)} is not a branch, tag or commit name`);
  return ref;
}

function gitEnv(config: GitConfig, home: string): Record<string, string> {
  const protocols = ['https', 'http', 'ssh', 'git', ...(config.allowFile ? ['file'] : [])];
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ALLOW_PROTOCOL: protocols.join(':'),
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    ...(process.env.HTTPS_PROXY ? { HTTPS_PROXY: process.env.HTTPS_PROXY } : {}),
  };
}

async function git(args: string[], config: GitConfig, cwd: string, home: string): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd,
      env: gitEnv(config, home),
      timeout: config.timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT')
      throw new KumoError('source_failed', 'git is not installed on this server (apt-get install git)');
    const detail = (e.stderr ?? e.message).trim().split('\n').filter(Boolean).slice(-1)[0] ?? e.message;
    throw new KumoError('source_failed', `git ${args[0]} failed: ${detail}`);
  }
}

/** The commit `ref` (default: the remote HEAD) points to, without cloning. */
export async function remoteCommit(url: string, ref: string | undefined, config: GitConfig): Promise<string> {
  if (ref && SHA.test(ref)) return ref;
  const home = await mkdtemp(path.join(os.tmpdir(), 'kumo-git-'));
  try {
    const out = await git(['ls-remote', '--', url, ref ?? 'HEAD'], config, home, home);
    const lines = out.trim().split('\n').filter(Boolean);
    // A tag's peeled commit (refs/tags/x^{}) is the commit the tree comes from.
    const line =
      lines.find((l) => l.endsWith('^{}')) ?? lines.find((l) => /\trefs\/heads\//.test(l)) ?? lines[0];
    const commit = line?.split('\t')[0];
    if (!commit || !SHA.test(commit))
      throw new KumoError(
        'source_failed',
        `${url} has no ${ref ? `ref ${JSON.stringify(ref)}` : 'default branch'}`,
      );
    return commit;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Clones `url` at `ref` into the new folder `dest`; returns the commit checked out. `.git` is removed. */
export async function cloneAt(
  url: string,
  ref: string | undefined,
  dest: string,
  config: GitConfig,
): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'kumo-git-'));
  try {
    if (ref && SHA.test(ref)) {
      await git(['clone', '--no-checkout', '--quiet', '--', url, dest], config, home, home);
      await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ref], config, dest, home);
    } else {
      const branch = ref ? ['--branch', ref] : [];
      await git(['clone', '--depth', '1', '--quiet', ...branch, '--', url, dest], config, home, home);
    }
    const commit = (await git(['rev-parse', 'HEAD'], config, dest, home)).trim();
    await rm(path.join(dest, '.git'), { recursive: true, force: true });
    return commit;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
