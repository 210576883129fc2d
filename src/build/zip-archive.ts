/**
 * Safe extraction of an uploaded .zip, with the same refusals as tar.gz bundles (archive.ts):
 * every entry is checked before anything is written — no absolute paths, no `..` (zip-slip), no
 * symlink leaving the bundle, no devices, FIFOs or sockets — within the same bounds on entry count
 * and expanded size (a zip bomb stops at the bound, counted on the bytes actually inflated).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { KumoError } from '../core/index.ts';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive.ts';

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

type ZipItem =
  | { kind: 'file'; path: string; executable: boolean; data: Buffer }
  | { kind: 'dir'; path: string }
  | { kind: 'symlink'; path: string; target: string };

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
  const items = await readZip(archive, limits);
  let files = 0;
  let bytes = 0;
  for (const item of items) {
    const abs = path.join(dest, item.path);
    if (item.kind === 'dir') {
      await mkdir(abs, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(abs), { recursive: true });
    if (item.kind === 'file') {
      await writeFile(abs, item.data, { mode: item.executable ? 0o755 : 0o644 });
      bytes += item.data.length;
    } else {
      await symlink(item.target, abs);
    }
    files++;
  }
  return { files, bytes };
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

/** Reads and checks every entry into memory (the upload is bounded). */
async function readZip(archive: Buffer, limits: ArchiveLimits): Promise<ZipItem[]> {
  const zip = await openZip(archive);
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw refuse(`more than ${limits.maxEntries} entries`);
  }
  const items: ZipItem[] = [];
  let expanded = 0;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const item = await readItem(zip, entry, limits.maxExpandedBytes - expanded);
      if (item?.kind === 'file') expanded += item.data.length;
      if (item) items.push(item);
    }
  } finally {
    zip.close();
  }
  return items;
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

/** One entry checked and read; undefined for the root folder. */
async function readItem(zip: ZipFile, entry: Entry, budget: number): Promise<ZipItem | undefined> {
  const raw = entry.fileName;
  const name = JSON.stringify(raw);
  if (raw.includes('\0')) throw refuse(`entry ${name} has a NUL byte in its path`);
  if (raw.includes('\\')) throw refuse(`entry ${name} has a backslash in its path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw refuse(`entry ${name} has an absolute path`);
  if (raw.split('/').includes('..')) throw refuse(`entry ${name} has a ".." path`);
  const rel = path.posix
    .normalize(raw)
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
  // Unix permissions live in the high half of the external attributes when made on Unix (3).
  const unixMode = entry.versionMadeBy >> 8 === 3 ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
  const type = unixMode & S_IFMT;
  const isDir = raw.endsWith('/') || type === S_IFDIR;
  if (isDir) return rel === '' || rel === '.' ? undefined : { kind: 'dir', path: rel };
  if (type !== 0 && type !== S_IFREG && type !== S_IFLNK)
    throw refuse(`entry ${name} is a device, FIFO or socket, which bundles may not contain`);
  const data = await readEntryData(zip, entry, type === S_IFLNK ? 4096 : budget);
  if (type === S_IFLNK) {
    const target = data.toString('utf8');
    if (!target || target.startsWith('/')) throw refuse(`symlink ${name} points to an absolute path`);
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
    if (resolved === '..' || resolved.startsWith('../'))
      throw refuse(`symlink ${name} points outside the bundle`);
    return { kind: 'symlink', path: rel, target };
  }
  return { kind: 'file', path: rel, executable: (unixMode & 0o111) !== 0, data };
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
