/**
 * Safe extraction of an uploaded gzipped tar. Entries go into a BundleTree (bundle-tree.ts), which
 * checks the whole bundle before anything is written: no absolute paths, no `..`, nothing under a
 * symlink, no path twice, no symlink whose target leaves the bundle once resolved through the
 * tree. Hard links, devices and FIFOs are refused here, as are bundles past the bounds on entry
 * count and expanded size (counted while inflating, so a gzip bomb stops at the bound). File
 * contents go to a spool on disk as they inflate, never all into memory.
 */
import { once } from 'node:events';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { KumoError } from '../core/index.ts';
import { BundleTree } from './bundle-tree.ts';
import { Spool, type SpooledFile } from './spool.ts';

/** Bounds of one bundle. */
export interface ArchiveLimits {
  maxEntries: number;
  maxExpandedBytes: number;
}

/** Defaults: 10,000 entries, 250 MB expanded. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 10_000,
  maxExpandedBytes: 250 * 1024 * 1024,
};

function refuse(message: string): KumoError {
  return new KumoError('invalid_archive', `bundle: ${message}`);
}

/** Extracts `archive` into the empty folder `dest`; throws invalid_archive naming the bad entry. */
export async function extractBundle(
  archive: Buffer,
  dest: string,
  limits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{ files: number; bytes: number }> {
  const reader = await BundleReader.open(path.dirname(dest), limits);
  try {
    await reader.write(archive);
    await reader.finish();
    return await reader.writeTo(dest);
  } finally {
    await reader.close();
  }
}

/** Slices fed to the parser at once: inflating one cannot outrun the spool by more than ratio × this. */
const SLICE = 4 * 1024;

/**
 * A tar (gzipped or not) read as it arrives, into a BundleTree whose file contents go to a spool
 * on disk (spool.ts) rather than memory; the input waits while the spool's writes catch up.
 */
export class BundleReader {
  private readonly tree = new BundleTree({ refuse });
  private readonly parser: Parser;
  private readonly spool: Spool;
  private readonly limits: ArchiveLimits;
  private readonly spooling: Promise<void>[] = [];
  private entries = 0;
  private expanded = 0;
  private failure: KumoError | undefined;
  private readonly failed: Promise<void>;
  private readonly ended: Promise<void>;
  private onFailed: () => void = () => {};

  private constructor(spool: Spool, limits: ArchiveLimits) {
    this.spool = spool;
    this.limits = limits;
    this.failed = new Promise((resolve) => (this.onFailed = resolve));
    this.parser = new Parser({ strict: true, onReadEntry: (entry) => this.entry(entry) });
    this.parser.on('error', (err: Error) =>
      this.fail(refuse(`not a valid gzipped tar archive (${err.message})`)),
    );
    this.parser.on('warn', (code: string, message: string) =>
      this.fail(refuse(`not a valid gzipped tar archive (${code}: ${message})`)),
    );
    this.ended = Promise.race([new Promise<void>((resolve) => this.parser.on('end', resolve)), this.failed]);
  }

  /** A reader whose spool is a new folder inside `near` (the destination's parent: same filesystem). */
  static async open(near: string, limits: ArchiveLimits): Promise<BundleReader> {
    return new BundleReader(await Spool.open(near), limits);
  }

  /** Feeds bytes of the archive; resolves when the reader can take more. Ignored after a refusal. */
  async write(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length && !this.failure; at += SLICE) {
      if (!this.parser.write(chunk.subarray(at, at + SLICE)))
        await Promise.race([once(this.parser, 'drain'), this.failed]);
    }
  }

  /** A Writable for a job's stdout: chunks go to write(), and are dropped after a refusal. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.write(chunk).then(() => done(), done);
      },
    });
  }

  /** Ends the input; resolves once every file is on disk, rejects with the refusal if there was one. */
  async finish(): Promise<void> {
    if (!this.failure) this.parser.end();
    await this.ended;
    await Promise.all(this.spooling);
    if (this.failure) throw this.failure;
  }

  /** Checks the whole tree and writes it into the empty folder `dest` (after finish()). */
  writeTo(dest: string): Promise<{ files: number; bytes: number }> {
    return this.tree.write(dest);
  }

  /** Removes the spool. */
  close(): Promise<void> {
    return this.spool.close();
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure =
      err instanceof KumoError ? err : refuse(`not a valid gzipped tar archive (${String(err)})`);
    this.onFailed();
    // Stop inflating: the rest of a refused archive is not worth reading.
    this.parser.abort(new Error('refused'));
  }

  private entry(entry: ReadEntry): void {
    if (this.failure) return void entry.resume();
    if (++this.entries > this.limits.maxEntries) {
      entry.resume();
      return this.fail(refuse(`more than ${this.limits.maxEntries} entries`));
    }
    const problem = checkEntry(entry);
    if (problem) {
      entry.resume();
      return this.fail(refuse(problem));
    }
    const spooled: { file?: SpooledFile } = {};
    try {
      if (entry.type === 'Directory') this.tree.add({ kind: 'dir', path: entry.path });
      else if (entry.type === 'SymbolicLink')
        this.tree.add({ kind: 'symlink', path: entry.path, target: entry.linkpath ?? '' });
      else
        this.tree.add({
          kind: 'file',
          path: entry.path,
          executable: ((entry.mode ?? 0) & 0o111) !== 0,
          data: [],
          spooled,
        });
    } catch (err) {
      entry.resume();
      return this.fail(err);
    }
    if (entry.type === 'Directory' || entry.type === 'SymbolicLink') return void entry.resume();
    const { maxExpandedBytes } = this.limits;
    const count = (bytes: number) => {
      this.expanded += bytes;
      if (this.expanded > maxExpandedBytes) throw refuse(`expands to more than ${maxExpandedBytes} bytes`);
    };
    this.spooling.push(
      this.spool.take(entry, count).then(
        (file) => void (spooled.file = file),
        (err: unknown) => this.fail(err),
      ),
    );
  }
}

/** Why an entry is refused by tar-specific rules (the tree checks the rest), or undefined. */
function checkEntry(entry: ReadEntry): string | undefined {
  const raw = entry.path;
  if (raw.includes('\0')) return `entry ${JSON.stringify(raw)} has a NUL byte in its path`;
  if (raw.startsWith('/') || /^[A-Za-z]:[\\/]/.test(raw))
    return `entry ${JSON.stringify(raw)} has an absolute path`;
  if (raw.split(/[\\/]/).includes('..')) return `entry ${JSON.stringify(raw)} has a ".." path`;
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
    case 'Directory':
    case 'SymbolicLink':
      return undefined;
    default:
      // Hard links included: a `Link` to a path outside would be followed when written.
      return `entry ${JSON.stringify(raw)} is a ${entry.type}, which bundles may not contain`;
  }
}
