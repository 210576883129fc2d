/**
 * Checks a folder that came from outside (a git clone) by the rules of uploaded bundles: only
 * files, folders and symlinks, and every symlink resolved through the whole tree (chains, `..`
 * through links) must stay inside it. Git itself can create a symlink to /etc/passwd, or a chain
 * `q -> .`, `u -> q/..` that reaches the parent; this refuses the tree before anything builds
 * from it.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { KumoError } from '../core/index.ts';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive.ts';
import { BundleTree } from './bundle-tree.ts';

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
  // The tree only validates here: files carry no content, since nothing is written.
  const tree = new BundleTree({ refuse, rootName: 'repository' });
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (++entries > limits.maxEntries) throw refuse(`more than ${limits.maxEntries} entries`);
      const st = await lstat(path.join(root, r));
      if (st.isDirectory()) {
        tree.add({ kind: 'dir', path: r });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        tree.add({ kind: 'symlink', path: r, target: await readlink(path.join(root, r)) });
        files++;
      } else if (st.isFile()) {
        tree.add({ kind: 'file', path: r, executable: (st.mode & 0o111) !== 0, data: [] });
        files++;
        bytes += st.size;
        if (bytes > limits.maxExpandedBytes) throw refuse(`more than ${limits.maxExpandedBytes} bytes`);
      } else throw refuse(`${JSON.stringify(r)} is not a file, folder or symlink`);
    }
  };
  await walk('');
  tree.check();
  return { files, bytes };
}
