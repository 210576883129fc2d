/**
 * The few files a sandbox is built from, kept in a private run folder: the seccomp program and
 * a tiny /etc (passwd, group, hosts) so that `whoami`, `os.userInfo()` and `localhost` work
 * without showing the host's real /etc. The launcher opens them as file descriptors before it
 * drops privileges, so the folder can stay readable by kumo alone (mode 0700).
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seccompProgram } from './seccomp.ts';

/** The user and group a function sees itself as, inside its user namespace. */
export const SANDBOX_USER = { name: 'kumo', uid: 1000, gid: 1000, home: '/tmp' } as const;

/** Host name inside the sandbox's UTS namespace. */
export const SANDBOX_HOSTNAME = 'kumo';

/** Paths of the generated files. */
export interface SandboxFiles {
  seccomp: string;
  passwd: string;
  group: string;
  hosts: string;
  /** Folder of per-instance argument files (the environment, kept out of the command line). */
  envDir: string;
}

/** Writes (or rewrites) the generated files under `runDir` and returns their paths; once per sandbox. */
export async function writeSandboxFiles(runDir: string): Promise<SandboxFiles> {
  const files = sandboxFilePaths(runDir);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await chmod(runDir, 0o700);
  // Environment files live for milliseconds; any found here were left by a crash: drop them.
  await rm(files.envDir, { recursive: true, force: true });
  await mkdir(files.envDir, { mode: 0o700 });
  const u = SANDBOX_USER;
  // 65534 is listed because files the namespace cannot map (the host's root) show up as nobody.
  await writeFile(
    files.passwd,
    `${u.name}:x:${u.uid}:${u.gid}:kumo function:${u.home}:/usr/sbin/nologin\n` +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    { mode: 0o600 },
  );
  await writeFile(files.group, `${u.name}:x:${u.gid}:\nnogroup:x:65534:\n`, { mode: 0o600 });
  await writeFile(
    files.hosts,
    `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${SANDBOX_HOSTNAME}\n`,
    { mode: 0o600 },
  );
  await writeFile(files.seccomp, seccompProgram(), { mode: 0o600 });
  return files;
}

/** Where the generated files of `runDir` are (whether or not they were written yet). */
export function sandboxFilePaths(runDir: string): SandboxFiles {
  return {
    seccomp: join(runDir, 'seccomp.bpf'),
    passwd: join(runDir, 'passwd'),
    group: join(runDir, 'group'),
    hosts: join(runDir, 'hosts'),
    envDir: join(runDir, 'env'),
  };
}
