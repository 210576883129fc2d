/**
 * Safe extraction of an uploaded .zip, with the same refusals as tar.gz bundles (archive.ts):
 * entries go into a BundleTree (bundle-tree.ts), which checks the whole bundle before anything is
 * written — no absolute paths, no `..` (zip-slip), nothing under a symlink, no path twice, no
 * symlink leaving the bundle once resolved through the tree — and devices, FIFOs and sockets are
 * refused here, within the same bounds on entry count and expanded size (a zip bomb stops at the
 * bound, counted on the bytes actually inflated).
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { KumoError } from '../core/index.ts';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive.ts';
import { BundleTree } from './bundle-tree.ts';
import { Spool, type SpooledFile } from './spool.ts';

/** The four bytes every zip starts with (a local file header), or an empty archive's end record. */
export function isZip(data: Buffer): boolean {
  return (
    data.length >= 4 &&
    data[0] === 0x50 &&
    data[1] === 0x4b &&
    (data[2] === 3 || data[2] === 5) &&
    (data[3] === 4 || data[3] === 6)
  );
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** Extracts `archive` into the empty folder `dest`; throws invalid_archive naming the bad entry. */
export async function extractZip(
  archive: Buffer,
  dest: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{ files: number; bytes: number }> {
  const tree = new BundleTree({ refuse });
  // File contents wait on disk beside `dest`, never all in memory (spool.ts).
  const spool = await Spool.open(path.dirname(dest));
  try {
    await readZip(archive, tree, limits, spool);
    return await tree.write(dest);
  } finally {
    await spool.close();
  }
}

function refuse(message: string): KumoError {
  return new KumoError('invalid_archive', `zip: ${message}`);
}

function openZip(archive: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      archive,
      { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false },
      (err, zip) => {
        if (err) reject(refuse(`not a valid zip archive (${err.message})`));
        else resolve(zip);
      },
    );
  });
}

/** Reads every entry into `tree`, file contents into `spool` (bounded by the limits). */
async function readZip(
  archive: Buffer,
  tree: BundleTree,
  limits: ArchiveLimits,
  spool: Spool,
): Promise<void> {
  const zip = await openZip(archive);
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw refuse(`more than ${limits.maxEntries} entries`);
  }
  let expanded = 0;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      expanded += await readItem(zip, entry, tree, limits.maxExpandedBytes - expanded, spool);
    }
  } finally {
    zip.close();
  }
}

function nextEntry(zip: ZipFile): Promise<Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (entry: Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err instanceof KumoError ? err : yauzlRefusal(err));
    };
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** yauzl checks names itself while reading the directory; its refusals in our words. */
function yauzlRefusal(err: Error): KumoError {
  const dots = /invalid relative path: (.*)/.exec(err.message);
  if (dots) return refuse(`entry ${JSON.stringify(dots[1])} has a ".." path`);
  const absolute = /absolute path: (.*)/.exec(err.message);
  if (absolute) return refuse(`entry ${JSON.stringify(absolute[1])} has an absolute path`);
  return refuse(`not a valid zip archive (${err.message})`);
}

/** One entry checked and added to `tree`; returns the bytes it expanded to. */
async function readItem(
  zip: ZipFile,
  entry: Entry,
  tree: BundleTree,
  budget: number,
  spool: Spool,
): Promise<number> {
  const raw = entry.fileName;
  const name = JSON.stringify(raw);
  if (raw.includes('\0')) throw refuse(`entry ${name} has a NUL byte in its path`);
  if (raw.includes('\\')) throw refuse(`entry ${name} has a backslash in its path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw refuse(`entry ${name} has an absolute path`);
  if (raw.split('/').includes('..')) throw refuse(`entry ${name} has a ".." path`);
  // Unix permissions live in the high half of the external attributes when made on Unix (3).
  const unixMode = entry.versionMadeBy >> 8 === 3 ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
  const type = unixMode & S_IFMT;
  if (raw.endsWith('/') || type === S_IFDIR) {
    tree.add({ kind: 'dir', path: raw });
    return 0;
  }
  if (type !== 0 && type !== S_IFREG && type !== S_IFLNK)
    throw refuse(`entry ${name} is a device, FIFO or socket, which bundles may not contain`);
  if (type === S_IFLNK) {
    const target = (await readEntryData(zip, entry, 4096)).toString('utf8');
    tree.add({ kind: 'symlink', path: raw, target });
    return 0;
  }
  // Added before reading, so a bad path or a duplicate is refused before inflating anything.
  const spooled: { file?: SpooledFile } = {};
  tree.add({ kind: 'file', path: raw, executable: (unixMode & 0o111) !== 0, data: [], spooled });
  spooled.file = await spoolEntryData(zip, entry, budget, spool);
  return spooled.file.size;
}

/** The contents of a file entry, written into the spool (refused past `budget` bytes). */
async function spoolEntryData(
  zip: ZipFile,
  entry: Entry,
  budget: number,
  spool: Spool,
): Promise<SpooledFile> {
  const over = () => refuse(`expands to more than the limit (at ${JSON.stringify(entry.fileName)})`);
  if (entry.uncompressedSize > budget) throw over();
  const stream = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, (err, s) => {
      if (err) reject(refuse(`entry ${JSON.stringify(entry.fileName)} cannot be read (${err.message})`));
      else resolve(s);
    }),
  );
  let size = 0;
  try {
    return await spool.take(stream, (bytes) => {
      size += bytes;
      if (size > budget) throw over();
    });
  } catch (e) {
    stream.destroy();
    throw e instanceof KumoError
      ? e
      : refuse(`entry ${JSON.stringify(entry.fileName)} is corrupt (${(e as Error).message})`);
  }
}

function readEntryData(zip: ZipFile, entry: Entry, budget: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (entry.uncompressedSize > budget)
      return reject(refuse(`expands to more than the limit (at ${JSON.stringify(entry.fileName)})`));
    zip.openReadStream(entry, (err, stream) => {
      if (err)
        return reject(refuse(`entry ${JSON.stringify(entry.fileName)} cannot be read (${err.message})`));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > budget) {
          stream.destroy(refuse(`expands to more than the limit (at ${JSON.stringify(entry.fileName)})`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (e: Error) =>
        reject(
          e instanceof KumoError
            ? e
            : refuse(`entry ${JSON.stringify(entry.fileName)} is corrupt (${e.message})`),
        ),
      );
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}
