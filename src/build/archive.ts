/**
 * Safe extraction of an uploaded gzipped tar. Every entry is checked before anything is written:
 * no absolute paths, no `..`, no hard links, devices or FIFOs, no symlink pointing outside the
 * bundle, and bounds on entry count and expanded size (a gzip bomb stops at the bound).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { KumoError } from '../core/index.ts';

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

type Entry =
  | { kind: 'file'; path: string; mode: number; data: Buffer }
  | { kind: 'dir'; path: string }
  | { kind: 'symlink'; path: string; target: string };

/** Extracts `archive` into the empty folder `dest`; throws invalid_archive naming the bad entry. */
export async function extractBundle(
  archive: Buffer,
  dest: string,
  limits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{ files: number; bytes: number }> {
  const entries = await readEntries(archive, limits);
  let files = 0;
  let bytes = 0;
  for (const e of entries) {
    const abs = path.join(dest, e.path);
    if (e.kind === 'dir') {
      await mkdir(abs, { recursive: true });
    } else if (e.kind === 'file') {
      await mkdir(path.dirname(abs), { recursive: true });
      // Only the executable bits matter; nothing setuid, nothing group/world-writable.
      await writeFile(abs, e.data, { mode: e.mode & 0o111 ? 0o755 : 0o644 });
      files++;
      bytes += e.data.length;
    } else {
      await mkdir(path.dirname(abs), { recursive: true });
      await symlink(e.target, abs);
      files++;
    }
  }
  return { files, bytes };
}

/** Parses and checks every entry, keeping the contents in memory (the upload is bounded). */
function readEntries(archive: Buffer, limits: ArchiveLimits): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let expanded = 0;
    let failed = false;
    const fail = (message: string) => {
      if (failed) return;
      failed = true;
      reject(new KumoError('invalid_archive', `bundle: ${message}`));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (failed) return entry.resume();
        if (entries.length >= limits.maxEntries) {
          entry.resume();
          return fail(`more than ${limits.maxEntries} entries`);
        }
        const problem = checkEntry(entry);
        if (problem) {
          entry.resume();
          return fail(problem);
        }
        const rel = normalise(entry.path);
        if (entry.type === 'Directory') {
          if (rel) entries.push({ kind: 'dir', path: rel });
          return entry.resume();
        }
        if (entry.type === 'SymbolicLink') {
          entries.push({ kind: 'symlink', path: rel, target: entry.linkpath ?? '' });
          return entry.resume();
        }
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => {
          expanded += chunk.length;
          if (expanded > limits.maxExpandedBytes)
            return fail(`expands to more than ${limits.maxExpandedBytes} bytes`);
          chunks.push(chunk);
        });
        entry.on('end', () =>
          entries.push({ kind: 'file', path: rel, mode: entry.mode ?? 0o644, data: Buffer.concat(chunks) }),
        );
      },
    });
    parser.on('error', (err: Error) => fail(`not a valid gzipped tar archive (${err.message})`));
    parser.on('warn', (code: string, message: string) =>
      fail(`not a valid gzipped tar archive (${code}: ${message})`),
    );
    parser.on('end', () => {
      if (!failed) resolve(entries);
    });
    parser.end(archive);
  });
}

/** Why an entry is refused, or undefined when it is fine. */
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
      return undefined;
    case 'SymbolicLink': {
      const target = entry.linkpath ?? '';
      if (!target || target.startsWith('/'))
        return `symlink ${JSON.stringify(raw)} points to an absolute path`;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(normalise(raw)), target));
      if (resolved === '..' || resolved.startsWith('../'))
        return `symlink ${JSON.stringify(raw)} points outside the bundle`;
      return undefined;
    }
    default:
      return `entry ${JSON.stringify(raw)} is a ${entry.type}, which bundles may not contain`;
  }
}

/** "./a//b/" → "a/b". */
function normalise(p: string): string {
  return path.posix
    .normalize(p)
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/^\.$/, '');
}
