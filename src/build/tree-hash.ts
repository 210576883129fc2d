/** A content hash of a folder: paths, executable bits, symlink targets and file contents. */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** sha256 over the sorted tree below `root`; identical content gives an identical hash, whatever the mtimes. */
export async function hashTree(root: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_SIZE);
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
        const digest = await hashFile(abs, buffer);
        hash.update(`f ${r} ${st.mode & 0o111 ? 'x' : '-'} ${digest}\n`);
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

/** Bytes read at once while hashing a file, into one buffer reused for every file. */
const READ_SIZE = 256 * 1024;

/**
 * sha256 of a file, read through `buffer`: a bundle may hold files of hundreds of MB, and reading
 * them whole (or in fresh chunks faster than the collector frees them) costs the server that much memory.
 */
async function hashFile(file: string, buffer: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** sha256 of a string or buffer, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
