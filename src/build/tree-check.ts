/**
 * Checks a folder that came from outside (a git clone) by the rules of uploaded bundles: only
 * files, folders and symlinks that stay inside it. Git itself can create a symlink to /etc/passwd;
 * this refuses the tree before anything builds from it.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../core/index.ts';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive.ts';

/** Throws source_failed naming the first entry that breaks a rule; returns the file count and bytes. */
export async function checkTree(
  root: string,
  what: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  let entries = 0;
  const refuse = (message: string) => new KumoError('source_failed', `${what}: ${message}`);
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (++entries > limits.maxEntries) throw refuse(`more than ${limits.maxEntries} entries`);
      const st = await lstat(path.join(root, r));
      if (st.isDirectory()) await walk(r);
      else if (st.isSymbolicLink()) {
        const target = await readlink(path.join(root, r));
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(r), target));
        if (target.startsWith('/') || resolved === '..' || resolved.startsWith('../'))
          throw refuse(`symlink ${r} points outside the repository (${target})`);
        files++;
      } else if (st.isFile()) {
        files++;
        bytes += st.size;
        if (bytes > limits.maxExpandedBytes) throw refuse(`more than ${limits.maxExpandedBytes} bytes`);
      } else throw refuse(`${r} is not a file, folder or symlink`);
    }
  };
  await walk('');
  return { files, bytes };
}
