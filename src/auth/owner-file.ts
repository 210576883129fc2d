/** Files only their owner may read (mode 0600), written atomically so that a crash never leaves half a key. */
import { chmod, open, rename, rm } from 'node:fs/promises';

/** Writes `content` to `file` with mode 0600, replacing it atomically. */
export async function writeOwnerOnlyFile(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  // 'wx' refuses to follow a planted file or link at the temporary name; 0o600 from the first byte.
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  // The umask may have narrowed the mode further but never widened it; make it exactly 0600.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
