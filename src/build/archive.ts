/**
 * Safe extraction of an uploaded gzipped tar. Entries go into a BundleTree (bundle-tree.ts), which
 * checks the whole bundle before anything is written: no absolute paths, no `..`, nothing under a
 * symlink, no path twice, no symlink whose target leaves the bundle once resolved through the
 * tree. Hard links, devices and FIFOs are refused here, as are bundles past the bounds on entry
 * count and expanded size (counted while inflating, so a gzip bomb stops at the bound).
 */
import { Parser, type ReadEntry } from 'tar';
import { KumoError } from '../core/index.ts';
import { BundleTree } from './bundle-tree.ts';

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
  const tree = new BundleTree({ refuse });
  await readEntries(archive, tree, limits);
  return tree.write(dest);
}

/** Parses every entry into `tree`, keeping file contents in memory (bounded by the limits). */
function readEntries(archive: Buffer, tree: BundleTree, limits: ArchiveLimits): Promise<void> {
  return new Promise((resolve, reject) => {
    let entries = 0;
    let expanded = 0;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(err instanceof KumoError ? err : refuse(`not a valid gzipped tar archive (${String(err)})`));
      // Stop inflating: the rest of a refused archive is not worth reading.
      parser.abort(new Error('refused'));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (failed) return entry.resume();
        if (++entries > limits.maxEntries) {
          entry.resume();
          return fail(refuse(`more than ${limits.maxEntries} entries`));
        }
        const problem = checkEntry(entry);
        if (problem) {
          entry.resume();
          return fail(refuse(problem));
        }
        const data: Buffer[] = [];
        try {
          if (entry.type === 'Directory') tree.add({ kind: 'dir', path: entry.path });
          else if (entry.type === 'SymbolicLink')
            tree.add({ kind: 'symlink', path: entry.path, target: entry.linkpath ?? '' });
          else
            tree.add({ kind: 'file', path: entry.path, executable: ((entry.mode ?? 0) & 0o111) !== 0, data });
        } catch (err) {
          entry.resume();
          return fail(err);
        }
        if (entry.type === 'Directory' || entry.type === 'SymbolicLink') return entry.resume();
        entry.on('data', (chunk: Buffer) => {
          if (failed) return;
          expanded += chunk.length;
          if (expanded > limits.maxExpandedBytes)
            return fail(refuse(`expands to more than ${limits.maxExpandedBytes} bytes`));
          data.push(chunk);
        });
      },
    });
    parser.on('error', (err: Error) => fail(refuse(`not a valid gzipped tar archive (${err.message})`)));
    parser.on('warn', (code: string, message: string) =>
      fail(refuse(`not a valid gzipped tar archive (${code}: ${message})`)),
    );
    parser.on('end', () => {
      if (!failed) resolve();
    });
    parser.end(archive);
  });
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
