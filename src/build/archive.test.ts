import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
