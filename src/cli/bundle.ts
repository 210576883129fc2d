/**
 * Packages a function folder into a gzipped tar in memory. The bytes depend only on the content: entries are
 * sorted, mtimes, uids and gids are zero and modes are reduced to 0644/0755, so an unchanged folder uploads
 * the same bundle and the server recognises it as the active version. Symlinks are stored as links, never
 * followed, and a link whose target leaves the folder is skipped with a warning.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Header, Pax } from 'tar';
import type { HeaderData } from 'tar';
import { CliError } from './io.ts';
import { formatSize } from './format.ts';
import { IgnoreRules, isErrno } from './ignore-rules.ts';

/** The server's default upload limit (docs/http-api.md); checked locally so that a huge folder fails fast. */
export const MAX_BUNDLE_BYTES = 50 * 1024 * 1024;

/** One entry of the bundle, in archive order. */
export interface BundleEntry {
  /** Posix path relative to the folder. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** 0o644 or 0o755 (files: only the executable bit is kept; git keeps no more either). */
  mode: number;
  /** Bytes of a file's content; 0 for the others. */
  size: number;
  /** Where a symlink points, relative to the link's folder. */
  linkpath?: string;
}

/** A packaged folder. */
export interface Bundle {
  /** The gzipped tar. */
  data: Buffer;
  /** Files and symlinks packaged (folders not counted). */
  files: number;
  /** Total bytes of file content before compression. */
  contentBytes: number;
}

/** Options of packFolder. */
export interface PackOptions {
  /** Refuse (throw) once the compressed bundle grows past this many bytes. */
  maxBytes?: number;
  /** Told about each entry that was skipped and why (a symlink leaving the folder, a socket). */
  onWarning?: (message: string) => void;
}

/** Packages `folder` (honouring ignore files) into a deterministic .tar.gz held in memory. */
export async function packFolder(folder: string, options: PackOptions = {}): Promise<Bundle> {
  const root = await realFolder(folder);
  const entries = await collectEntries(root, options.onWarning ?? (() => {}));
  const files = entries.filter((e) => e.type !== 'directory').length;
  if (files === 0) {
    throw new CliError(`nothing to deploy: ${folder} has no files (after .gitignore and .kumoignore)`);
  }
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  const chunks: Buffer[] = [];
  let length = 0;
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      length += chunk.length;
      chunks.push(chunk);
      done(length > maxBytes ? tooLarge(folder, length, maxBytes) : null);
    },
  });
  await pipeline(Readable.from(tarBlocks(root, entries)), createGzip(), collect);
  const contentBytes = entries.reduce((sum, e) => sum + e.size, 0);
  return { data: Buffer.concat(chunks, length), files, contentBytes };
}

function tooLarge(folder: string, length: number, maxBytes: number): CliError {
  return new CliError(
    `${folder} packages to more than ${formatSize(length)}, over the ${formatSize(maxBytes)} upload limit: ` +
      'list large files in .kumoignore',
  );
}

async function realFolder(folder: string): Promise<string> {
  try {
    const root = await realpath(folder);
    if (!(await lstat(root)).isDirectory())
      throw new CliError(`${folder} is not a folder: deploy takes a folder`);
    return root;
  } catch (err) {
    if (isErrno(err) && err.code === 'ENOENT') throw new CliError(`${folder} does not exist`);
    throw err;
  }
}

/** Lists what goes into the bundle of `root` (a real path), folders before their content, names sorted. */
export async function collectEntries(root: string, warn: (message: string) => void): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  await walk(root, '', await IgnoreRules.empty().enter(root, ''), entries, warn);
  return entries;
}

async function walk(
  root: string,
  dir: string,
  rules: IgnoreRules,
  out: BundleEntry[],
  warn: (message: string) => void,
): Promise<void> {
  // Default sort compares UTF-16 code units, independent of locale, so every machine orders alike.
  const names = (await readdir(path.join(root, dir))).sort();
  for (const name of names) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    const stat = await lstat(path.join(root, rel));
    if (rules.excludes(rel, stat.isDirectory())) continue;
    if (stat.isDirectory()) {
      out.push({ path: rel, type: 'directory', mode: 0o755, size: 0 });
      await walk(root, rel, await rules.enter(root, rel), out, warn);
    } else if (stat.isFile()) {
      out.push({ path: rel, type: 'file', mode: stat.mode & 0o111 ? 0o755 : 0o644, size: stat.size });
    } else if (stat.isSymbolicLink()) {
      const linkpath = await linkInside(root, rel);
      if (linkpath === undefined) warn(`skipping ${rel}: symlink points outside the folder`);
      else out.push({ path: rel, type: 'symlink', mode: 0o777, size: 0, linkpath });
    } else {
      warn(`skipping ${rel}: not a file, folder or symlink`);
    }
  }
}

/** The link's target relative to its folder when it stays inside `root`, else undefined. */
async function linkInside(root: string, rel: string): Promise<string | undefined> {
  const link = path.join(root, rel);
  const target = path.resolve(path.dirname(link), await readlink(link));
  if (!isInside(root, target)) return undefined;
  try {
    // Lexically inside is not enough: the target may pass through another link that leaves.
    if (!isInside(root, await realpath(link))) return undefined;
  } catch (err) {
    // A dangling link cannot lead anywhere; keep it as the user made it.
    if (!(isErrno(err) && err.code === 'ENOENT')) throw err;
  }
  return path.relative(path.dirname(link), target).split(path.sep).join('/') || '.';
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

async function* tarBlocks(root: string, entries: readonly BundleEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield tarHeader(entry);
    if (entry.type !== 'file') continue;
    let read = 0;
    for await (const chunk of createReadStream(path.join(root, entry.path))) {
      if (!Buffer.isBuffer(chunk)) throw new TypeError('file stream yielded a string');
      read += chunk.length;
      yield chunk;
    }
    // The header already promised `size` bytes; a file that changed meanwhile would corrupt the archive.
    if (read !== entry.size)
      throw new CliError(`${entry.path} changed while it was being packaged: try again`);
    const padding = (512 - (entry.size % 512)) % 512;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  // Two zero blocks end a tar archive.
  yield Buffer.alloc(1024);
}

const TAR_TYPES = { file: 'File', directory: 'Directory', symlink: 'SymbolicLink' } as const;

/** The header block of one entry, preceded by a PAX header when the path or link is too long for ustar. */
export function tarHeader(entry: BundleEntry): Buffer {
  const data: HeaderData = {
    path: entry.type === 'directory' ? `${entry.path}/` : entry.path,
    mode: entry.mode,
    uid: 0,
    gid: 0,
    size: entry.size,
    mtime: new Date(0),
    type: TAR_TYPES[entry.type],
    linkpath: entry.linkpath ?? '',
    uname: '',
    gname: '',
  };
  const block = Buffer.alloc(512);
  const needPax = new Header(data).encode(block);
  if (!needPax) return block;
  const pax = new Pax({ path: data.path, linkpath: entry.linkpath, size: entry.size }).encode();
  return Buffer.concat([pax, block]);
}
