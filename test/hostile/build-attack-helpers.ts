/**
 * Helpers of the deploy-time attack suite (build-attacks.test.ts): canary folders made fresh by
 * the test, snapshots of them, hand-made tar.gz and zip archives (so that an entry can be written
 * *through* a symlink, which no honest packer produces), a bounded search for a secret in kumo's
 * temporary folders, and the places an attack's recorded uid can be read back from.
 *
 * Everything here writes only inside folders it made with mkdtemp.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  realpath,
  rm,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** A random marker no honest file contains. */
export function randomMarker(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

/** A canary folder: a fresh mkdtemp folder (real path) holding a `secret` file with random content. */
export interface Canary {
  /** The folder, as a real path (no symlink in it), e.g. /tmp/kumo-canary-AbC123. */
  dir: string;
  /** `dir/secret`, mode 0600. */
  secretFile: string;
  /** What `secret` holds. */
  secret: string;
  /** A file an attack tries to create: `dir/pwned` (absent at the start). */
  target: string;
}

const canaries: string[] = [];

/** Makes a canary folder (removed by removeCanaries). */
export async function makeCanary(): Promise<Canary> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'kumo-canary-')));
  canaries.push(dir);
  const secret = randomMarker('kumo-secret');
  const secretFile = path.join(dir, 'secret');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  return { dir, secretFile, secret, target: path.join(dir, 'pwned') };
}

/** Every canary folder made so far (the secret search skips them: they hold the secrets). */
export function canaryDirs(): readonly string[] {
  return canaries;
}

/** Removes every canary folder made by makeCanary. */
export async function removeCanaries(): Promise<void> {
  for (const dir of canaries.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A fresh scratch folder of the test's own (removed with the canaries). */
export async function scratchDir(prefix = 'kumo-canary-scratch-'): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), prefix)));
  canaries.push(dir);
  return dir;
}

/**
 * What a folder holds: relative path ("." for the folder itself) → kind, mode and a sha256 of the
 * content (symlinks: their target). Never follows links; never shows the content itself.
 */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = { '.': `dir ${((await lstat(dir)).mode & 0o7777).toString(8)}` };
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, r);
      const st = await lstat(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        await walk(r);
      } else if (st.isSymbolicLink()) out[r] = `link -> ${await readlink(abs)}`;
      else if (st.isFile())
        out[r] = `file ${mode} sha256:${createHash('sha256')
          .update(await readFile(abs))
          .digest('hex')
          .slice(0, 16)}`;
      else out[r] = `other ${mode}`;
    }
  };
  await walk('');
  return out;
}

/** One entry of a hand-made archive. */
export type ArchiveEntry =
  | { kind: 'file'; path: string; content: string | Buffer; mode?: number }
  | { kind: 'dir'; path: string }
  | { kind: 'symlink'; path: string; target: string };

/** A ustar header + data for one entry. */
function tarEntry(e: ArchiveEntry): Buffer {
  if (Buffer.byteLength(e.path) > 100) throw new Error(`tar entry name too long for this helper: ${e.path}`);
  const header = Buffer.alloc(512, 0);
  const data = e.kind === 'file' ? Buffer.from(e.content) : Buffer.alloc(0);
  const mode = e.kind === 'file' ? (e.mode ?? 0o644) : e.kind === 'dir' ? 0o755 : 0o777;
  const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
  header.write(e.kind === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii');
  header.write(octal(0, 8), 116, 8, 'ascii');
  header.write(octal(data.length, 12), 124, 12, 'ascii');
  header.write(octal(1_700_000_000, 12), 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write(e.kind === 'file' ? '0' : e.kind === 'dir' ? '5' : '2', 156, 1, 'ascii');
  if (e.kind === 'symlink') header.write(e.target, 157, 100, 'utf8');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512, 0);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

/** The entries of two snapshots that differ, as "path: before → after". */
export function snapshotDiff(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => before[k] !== after[k])
    .map((k) => `${k}: ${before[k] ?? '(absent)'} → ${after[k] ?? '(absent)'}`);
}

/** A gzipped tar of `entries`, in that order (byte for byte what an attacker would upload). */
export function tarGz(entries: ArchiveEntry[]): Buffer {
  return gzipSync(Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024, 0)]));
}

/** A zip of `entries`, in that order, made by python's zipfile with Unix modes (symlinks as S_IFLNK). */
export async function zipOf(entries: ArchiveEntry[]): Promise<Buffer> {
  const dir = await scratchDir('kumo-canary-zip-');
  const file = path.join(dir, 'a.zip');
  const rows = entries.map((e) =>
    e.kind === 'file'
      ? [e.path, Buffer.from(e.content).toString('base64'), 0o100000 | (e.mode ?? 0o644)]
      : e.kind === 'dir'
        ? [e.path.endsWith('/') ? e.path : `${e.path}/`, '', 0o040755]
        : [e.path, Buffer.from(e.target).toString('base64'), 0o120777],
  );
  const script = `
import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, content, mode in json.loads(sys.argv[2]):
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, base64.b64decode(content))
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(rows)]);
  return readFile(file);
}

/**
 * The symlink chain that climbs out of the extraction folder while every link, read on its own,
 * stays inside it: `q -> .`, `u1 -> q/..`, `u2 -> u1/..`, … Lexically each target normalises to
 * "." (inside); really `u<k>` is the k-th parent of the folder holding it.
 *
 * `levels` must reach `/` from the deepest folder kumo extracts or builds in, and stay below the
 * kernel's 40 symlinks per path lookup (`u<n>` costs n+1 links): past 39, every lookup through it
 * fails with ELOOP and the attack proves nothing. See chainLevels.
 */
export function symlinkChain(levels: number): { entries: ArchiveEntry[]; top: string } {
  const entries: ArchiveEntry[] = [{ kind: 'symlink', path: 'q', target: '.' }];
  let previous = 'q';
  for (let i = 1; i <= levels; i++) {
    entries.push({ kind: 'symlink', path: `u${i}`, target: `${previous}/..` });
    previous = `u${i}`;
  }
  return { entries, top: previous };
}

/**
 * Levels of the chain for a server whose data directory is `dataDir`: its depth, plus the deepest
 * folder kumo works in below it (builds/NAME/vN.src, tmp/source-X/src, tmp/deploy-X/src), plus a
 * margin; at most 38 (see symlinkChain).
 */
export async function chainLevels(dataDir: string): Promise<number> {
  const depth = (await realpath(dataDir)).split('/').filter(Boolean).length;
  return Math.min(depth + 8, 38);
}

/**
 * Files under os.tmpdir()'s `kumo-*` folders, /dev/shm/kumo-* and `extraRoots` (the data dir) that
 * contain `marker`. Skips `skip` (the canary folders, which hold it on purpose). Bounded: no links
 * followed, depth 12, 50,000 entries, files over 4 MB unread; vanished entries are ignored.
 */
export async function filesContaining(
  marker: string,
  extraRoots: string[],
  skip: readonly string[],
): Promise<{ found: string[]; scanned: number }> {
  const roots: string[] = [...extraRoots];
  for (const base of [os.tmpdir(), '/dev/shm']) {
    const names = await readdir(base).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith('kumo-')) roots.push(path.join(base, name));
  }
  const skipped = new Set(skip);
  const needle = Buffer.from(marker);
  const found: string[] = [];
  let scanned = 0;
  const visit = async (p: string, depth: number): Promise<void> => {
    if (skipped.has(p) || scanned > 50_000 || depth > 12) return;
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    scanned++;
    if (st.isDirectory()) {
      const names = await readdir(p).catch(() => [] as string[]);
      for (const name of names) await visit(path.join(p, name), depth + 1);
    } else if (st.isFile() && st.size <= 4 * 1024 * 1024) {
      const data = await readFile(p).catch(() => undefined);
      if (data?.includes(needle)) found.push(p);
    }
  };
  for (const root of [...new Set(roots)]) await visit(root, 0);
  return { found, scanned };
}

/** Writes `content` to `file` (a path inside a canary) with `mode`, making its folder. */
export async function plant(file: string, content: string, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await chmod(file, mode);
}

/** Every uid an attack recorded as `KUMO-EVIL-UID=<n>` lines, or as bare numbers one per line (uid.txt). */
export function uidsIn(text: string, bare = false): number[] {
  const uids = [...text.matchAll(/KUMO-EVIL-UID=(\d+)/g)].map((m) => Number(m[1]));
  if (bare)
    for (const line of text.split('\n')) if (/^\d+$/.test(line.trim())) uids.push(Number(line.trim()));
  return uids;
}
