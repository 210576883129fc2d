import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Header } from 'tar';
import { gzipSync } from 'node:zlib';
import type { KumoError } from '../core/index.ts';
import { extractBundle } from './archive.ts';
import { hashTree } from './tree-hash.ts';

/** A gzipped tar built entry by entry, so that hostile headers can be written. */
function tarOf(
  entries: { path: string; type?: string; body?: string; linkpath?: string; mode?: number }[],
): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = new Header({
      path: e.path,
      type: (e.type ?? 'File') as 'File',
      size: e.type && e.type !== 'File' ? 0 : body.length,
      mode: e.mode ?? 0o644,
      linkpath: e.linkpath ?? '',
      mtime: new Date(0),
    });
    const block = Buffer.alloc(512);
    h.encode(block, 0);
    blocks.push(block);
    if (body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kumo-archive-'));
}

test('extracts files, folders, modes and inside symlinks', async () => {
  const dir = await tmp();
  try {
    const res = await extractBundle(
      tarOf([
        { path: 'a/', type: 'Directory' },
        { path: 'a/run.sh', body: '#!/bin/sh\n', mode: 0o4755 },
        { path: 'index.js', body: 'x' },
        { path: 'link', type: 'SymbolicLink', linkpath: 'a/run.sh' },
      ]),
      dir,
    );
    assert.equal(res.files, 3);
    assert.equal(await readFile(path.join(dir, 'index.js'), 'utf8'), 'x');
    const mode = (await stat(path.join(dir, 'a/run.sh'))).mode & 0o7777;
    assert.equal(mode, 0o755, 'executable kept, setuid dropped');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('refuses hostile entries before writing anything', async () => {
  const cases: [Parameters<typeof tarOf>[0], RegExp][] = [
    [[{ path: '../evil', body: 'x' }], /"\.\." path/],
    [[{ path: 'a/../../evil', body: 'x' }], /"\.\." path/],
    [[{ path: '/etc/evil', body: 'x' }], /absolute path/],
    [[{ path: 'l', type: 'SymbolicLink', linkpath: '/etc/shadow' }], /absolute path/],
    [[{ path: 'd/l', type: 'SymbolicLink', linkpath: '../../x' }], /outside the bundle/],
    [[{ path: 'h', type: 'Link', linkpath: 'index.js' }], /Link/],
    [[{ path: 'dev', type: 'CharacterDevice' }], /CharacterDevice/],
    [[{ path: 'fifo', type: 'FIFO' }], /FIFO/],
  ];
  for (const [entries, pattern] of cases) {
    const dir = await tmp();
    try {
      await assert.rejects(
        extractBundle(tarOf([{ path: 'ok.js', body: 'x' }, ...entries]), dir),
        (err: KumoError) => {
          assert.equal(err.code, 'invalid_archive');
          assert.match(err.message, pattern);
          return true;
        },
      );
      await assert.rejects(stat(path.join(dir, 'ok.js')), 'nothing was written');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('stops at the expanded-size and entry-count bounds', async () => {
  const dir = await tmp();
  try {
    const big = tarOf([{ path: 'big', body: 'x'.repeat(10_000) }]);
    await assert.rejects(
      extractBundle(big, dir, { maxEntries: 10, maxExpandedBytes: 1000 }),
      /expands to more than 1000 bytes/,
    );
    const many = tarOf(Array.from({ length: 5 }, (_, i) => ({ path: `f${i}`, body: 'x' })));
    await assert.rejects(
      extractBundle(many, dir, { maxEntries: 3, maxExpandedBytes: 1e6 }),
      /more than 3 entries/,
    );
    await assert.rejects(extractBundle(Buffer.from('not a tar at all'), dir), /not a valid gzipped tar/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the tree hash depends on content and executable bits, not on mtimes', async () => {
  const a = await tmp();
  const b = await tmp();
  try {
    await extractBundle(tarOf([{ path: 'x.js', body: '1' }]), a);
    await extractBundle(tarOf([{ path: 'x.js', body: '1' }]), b);
    assert.equal(await hashTree(a), await hashTree(b));
    const c = await tmp();
    await extractBundle(tarOf([{ path: 'x.js', body: '1', mode: 0o755 }]), c);
    assert.notEqual(await hashTree(a), await hashTree(c));
    await rm(c, { recursive: true, force: true });
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
});

/** A destination nested in a fresh parent, with a canary file beside it that must never change. */
async function fenced(): Promise<{
  parent: string;
  dest: string;
  canary: string;
  done: () => Promise<void>;
}> {
  const parent = await tmp();
  const dest = path.join(parent, 'a', 'b', 'dest');
  await mkdir(dest, { recursive: true });
  const canary = path.join(parent, 'a', 'canary');
  await writeFile(canary, 'original');
  return { parent, dest, canary, done: () => rm(parent, { recursive: true, force: true }) };
}

/** Expects invalid_archive matching `pattern`, an empty destination and an untouched canary. */
async function refusedCleanly(entries: Parameters<typeof tarOf>[0], pattern: RegExp): Promise<void> {
  const f = await fenced();
  try {
    await assert.rejects(extractBundle(tarOf(entries), f.dest), (err: KumoError) => {
      assert.equal(err.code, 'invalid_archive');
      assert.match(err.message, pattern);
      return true;
    });
    assert.deepEqual(await readdir(f.dest), [], 'nothing was written');
    assert.equal(await readFile(f.canary, 'utf8'), 'original', 'the canary beside the bundle is untouched');
    assert.deepEqual((await readdir(path.join(f.parent, 'a'))).sort(), ['b', 'canary']);
  } finally {
    await f.done();
  }
}

test('a chain of harmless-looking symlinks that leaves the bundle is refused (no write through it)', async () => {
  const chain: Parameters<typeof tarOf>[0] = [
    { path: 'ok.js', body: 'x' },
    { path: 'q', type: 'SymbolicLink', linkpath: '.' },
    { path: 'u1', type: 'SymbolicLink', linkpath: 'q/..' },
    { path: 'u2', type: 'SymbolicLink', linkpath: 'u1/..' },
  ];
  await refusedCleanly(chain, /symlink "u1" points outside the bundle/);
  // The old extractor wrote this through the chain, into the canary beside the bundle.
  await refusedCleanly(
    [...chain, { path: 'u2/canary', body: 'pwned' }],
    /"u2\/canary" lies inside symlink "u2"/,
  );
});

test('a .kumo symlink leading out of the bundle through a chain is refused', () =>
  refusedCleanly(
    [
      { path: 'ok.js', body: 'x' },
      { path: 'q', type: 'SymbolicLink', linkpath: '.' },
      { path: '.kumo', type: 'SymbolicLink', linkpath: 'q/../kumo' },
    ],
    /symlink "\.kumo" points outside the bundle/,
  ));

test('".." through a symlink made by an earlier entry is refused', () =>
  refusedCleanly(
    [
      { path: 'ok.js', body: 'x' },
      { path: 's/', type: 'Directory' },
      { path: 's/l', type: 'SymbolicLink', linkpath: '..' },
      { path: 'e', type: 'SymbolicLink', linkpath: 's/l/..' },
    ],
    /symlink "e" points outside the bundle/,
  ));

test('a file written through a symlink made by an earlier entry is refused', () =>
  refusedCleanly(
    [
      { path: 'ok.js', body: 'x' },
      { path: 's/', type: 'Directory' },
      { path: 's/l', type: 'SymbolicLink', linkpath: '..' },
      { path: 'e', type: 'SymbolicLink', linkpath: 's/l/..' },
      { path: 'e/canary', body: 'pwned' },
    ],
    /entry "e\/canary" lies inside symlink "e"/,
  ));

test('an entry whose parent is a symlink or a file is refused, in either order', async () => {
  await refusedCleanly(
    [
      { path: 'sub/ok.js', body: 'x' },
      { path: 'l', type: 'SymbolicLink', linkpath: 'sub' },
      { path: 'l/x', body: 'through the link' },
    ],
    /entry "l\/x" lies inside symlink "l"/,
  );
  await refusedCleanly(
    [
      { path: 'l/x', body: 'x' },
      { path: 'l', type: 'SymbolicLink', linkpath: '.' },
    ],
    /entry "l" appears twice/,
  );
  await refusedCleanly(
    [
      { path: 'f', body: 'x' },
      { path: 'f/x', body: 'x' },
    ],
    /entry "f\/x" lies inside file "f"/,
  );
});

test('the same path twice is refused unless both are folders', async () => {
  await refusedCleanly(
    [
      { path: 'x', body: 'a file' },
      { path: 'x', type: 'SymbolicLink', linkpath: '.' },
    ],
    /entry "x" appears twice/,
  );
  await refusedCleanly(
    [
      { path: 'sub/', type: 'Directory' },
      { path: 'x', type: 'SymbolicLink', linkpath: 'sub' },
      { path: 'x/', type: 'Directory' },
    ],
    /entry "x\/" appears twice/,
  );
  await refusedCleanly(
    [
      { path: 'x', body: 'first' },
      { path: 'x', body: 'second' },
    ],
    /entry "x" appears twice/,
  );
  const dir = await tmp();
  try {
    await extractBundle(
      tarOf([
        { path: 'd/', type: 'Directory' },
        { path: 'd/f', body: 'x' },
        { path: 'd/', type: 'Directory' },
      ]),
      dir,
    );
    assert.equal(await readFile(path.join(dir, 'd/f'), 'utf8'), 'x');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a hard link is refused even when it names a file of the bundle', () =>
  refusedCleanly(
    [
      { path: 'ok.js', body: 'x' },
      { path: 'h', type: 'Link', linkpath: 'ok.js' },
    ],
    /entry "h" is a Link/,
  ));

test('symlinks chained inside the bundle, or dangling inside it, are kept', async () => {
  const dir = await tmp();
  try {
    const res = await extractBundle(
      tarOf([
        { path: 'lib/v1/index.js', body: 'v1' },
        { path: 'q', type: 'SymbolicLink', linkpath: '.' },
        { path: 'current', type: 'SymbolicLink', linkpath: 'q/lib/v1' },
        { path: 'lib/latest', type: 'SymbolicLink', linkpath: '../current' },
        { path: 'later', type: 'SymbolicLink', linkpath: 'not-yet/../lib' },
      ]),
      dir,
    );
    assert.equal(res.files, 5);
    assert.equal(await readFile(path.join(dir, 'lib/latest/index.js'), 'utf8'), 'v1');
    assert.equal(await readlink(path.join(dir, 'later')), 'not-yet/../lib');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
