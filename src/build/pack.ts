/** Packing a folder back into a gzipped tar, for sources that arrive in another form (zip, git). */
import { create as createTar } from 'tar';

/** A gzipped tar of everything in `dir` (paths relative to it, owners and times left out). */
export async function packDirectory(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = createTar({ gzip: true, cwd: dir, portable: true, noMtime: true }, ['.']);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
