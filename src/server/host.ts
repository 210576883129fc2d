/**
 * The host side of starting a server: the sandbox every instance runs in (or, only when the
 * operator says so, none) and the folder of the instances' socket folders.
 */
import { chmod, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { KumoError, type ServerLog } from '../core/index.ts';
import {
  BubblewrapSandbox,
  NoSandbox,
  ownedTempDir,
  probeHost,
  sandboxProblems,
  type Sandbox,
} from '../drivers/index.ts';
import type { ServerConfig } from './config/index.ts';

/** Shared memory: where the instances' socket folders go when the host has it. */
const SHM = '/dev/shm';

/** Where kumo servers leave temporary folders (swept at start when their server died). */
export const TEMP_ROOTS = [os.tmpdir(), SHM];

/**
 * The sandbox every instance runs in: bubblewrap + cgroups + seccomp, or — only when the operator
 * says --insecure-no-sandbox — none. A host that cannot sandbox makes kumo refuse to start.
 */
export async function createSandbox(
  config: ServerConfig,
  log: ServerLog,
): Promise<{ sandbox: Sandbox; close(): Promise<void> }> {
  if (config.insecureNoSandbox) {
    log.warn(
      'INSECURE: functions run WITHOUT a sandbox (--insecure-no-sandbox): any function can read and change this host',
    );
    return { sandbox: new NoSandbox(), close: async () => {} };
  }
  const probe = await probeHost(config.sandboxIds ? { idRange: config.sandboxIds } : {});
  const problems = sandboxProblems(probe);
  if (problems.length) {
    throw new KumoError(
      'sandbox_unavailable',
      `kumo cannot isolate functions on this host: ${problems.join('; ')}. Fix that (kumo doctor lists every check), or start with --insecure-no-sandbox to run functions unisolated.`,
    );
  }
  const privateDir = await ownedTempDir(os.tmpdir(), 'sandbox');
  // Reachable by the sandbox's unprivileged host user: mirrors of paths it could not reach.
  const stageDir = await ownedTempDir(os.tmpdir(), 'stage');
  await chmod(stageDir, 0o711);
  const sandbox = new BubblewrapSandbox({ probe, runDir: privateDir, stageDir });
  const sweptGroups = await sandbox.sweep();
  if (sweptGroups)
    log.info('removed the instance cgroups of kumo servers that did not stop cleanly', {
      count: sweptGroups,
    });
  return {
    sandbox,
    close: async () => {
      await sandbox.close();
      await rm(privateDir, { recursive: true, force: true });
      await rm(stageDir, { recursive: true, force: true });
    },
  };
}

/**
 * The folder of the instances' socket folders. On tmpfs (/dev/shm) when there is one: a function
 * can write into its socket folder, and on tmpfs that costs its own memory, not the host's disk.
 */
export async function makeRunDir(): Promise<string> {
  const base = (await stat(SHM).catch(() => undefined))?.isDirectory() ? SHM : os.tmpdir();
  const dir = await ownedTempDir(base, 'run');
  await chmod(dir, 0o711);
  return dir;
}
