/** A content hash of a folder: paths, executable bits, symlink targets and file contents. */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** sha256 over the sorted tree below `root`; identical content gives an identical hash, whatever the mtimes. */
export async function hashTree(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = await lstat(abs);
      if (st.isDirectory()) {
        hash.update(`d ${r}\n`);
        await walk(r);
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${r} ${await readlink(abs)}\n`);
      } else if (st.isFile()) {
        const digest = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
        hash.update(`f ${r} ${st.mode & 0o111 ? 'x' : '-'} ${digest}\n`);
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

/** sha256 of a string or buffer, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
