/**
 * Where the contents of a bundle's files wait while the bundle is read and checked: a private
 * folder beside the destination (so a checked file is hard-linked into place, not copied), with
 * one file per entry, written as the archive inflates. A bundle that expands to hundreds of MB
 * then costs disk, bounded by the bundle limit, instead of the server's memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';

/** A stream of a file's contents: a Node Readable, or a tar entry (Minipass). */
export interface ChunkSource {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end' | 'error', listener: (err?: unknown) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** A file's contents on disk, waiting to be linked into the bundle. */
export interface SpooledFile {
  path: string;
  size: number;
}

/** The spool of one extraction. */
export class Spool {
  readonly dir: string;
  private next = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A new spool folder (0700) inside `near`. */
  static async open(near: string): Promise<Spool> {
    return new Spool(await mkdtemp(path.join(near, '.spool-')));
  }

  /**
   * Writes `source` into a new spool file, with backpressure; `count` sees each chunk first and
   * may throw to stop (the file is then abandoned). Resolves with the file once it is on disk.
   */
  take(source: ChunkSource, count: (bytes: number) => void): Promise<SpooledFile> {
    const file = path.join(this.dir, String(this.next++));
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    return new Promise((resolve, reject) => {
      let size = 0;
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        source.resume(); // drain what is left so the archive reader goes on to its end
        out.destroy();
        reject(err);
      };
      source.on('data', (chunk: Buffer) => {
        if (failed) return;
        try {
          count(chunk.length);
        } catch (err) {
          fail(err);
          return;
        }
        size += chunk.length;
        if (!out.write(chunk)) {
          source.pause();
          out.once('drain', () => source.resume());
        }
      });
      source.once('end', () => {
        if (!failed) out.end();
      });
      source.once('error', fail);
      out.once('error', fail);
      out.once('finish', () => {
        if (!failed) resolve({ path: file, size });
      });
    });
  }

  /** Removes the spool and whatever is still in it. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
