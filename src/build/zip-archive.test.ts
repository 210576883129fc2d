import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { KumoError } from '../core/index.ts';
import { extractZip, isZip } from './zip-archive.ts';

/** A zip made by python's zipfile (deflated): [name, content, unix mode, times to repeat the content?]. */
async function zipOf(entries: [string, string, number, number?][]): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-zip-'));
  const file = path.join(dir, 'a.zip');
  const script = `
import json, sys, warnings, zipfile
warnings.simplefilter('ignore')  # duplicate names are written on purpose
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, content, mode, *repeat in json.loads(sys.argv[2]):
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, content * (repeat[0] if repeat else 1))
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(entries)]);
  const data = await readFile(file);
  await rm(dir, { recursive: true, force: true });
  return data;
}

test('extracts files, folders, executable bits and inside symlinks', async () => {
  const archive = await zipOf([
    ['bin/', '', 0o040755],
    ['bin/run.sh', '#!/bin/sh\n', 0o100755],
    ['a.txt', 'a', 0o100644],
    ['link', 'a.txt', 0o120777],
  ]);
  assert.equal(isZip(archive), true);
  assert.equal(isZip(Buffer.from('\x1f\x8b')), false);
  const dest = await mkdtemp(path.join(os.tmpdir(), 'kumo-unzip-'));
  try {
    assert.deepEqual(await extractZip(archive, dest), { files: 3, bytes: 11 });
    assert.equal((await stat(path.join(dest, 'bin/run.sh'))).mode & 0o777, 0o755);
    assert.equal(await readFile(path.join(dest, 'link'), 'utf8'), 'a');
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

test('a zip bomb stops at the expanded-size bound, a long one at the entry bound', async () => {
  const bomb = await zipOf([['big', 'x', 0o100644, 1_000_000]]);
  assert.ok(bomb.length < 10_000, 'it compresses well');
  const dest = await mkdtemp(path.join(os.tmpdir(), 'kumo-unzip-'));
  try {
    await assert.rejects(
      extractZip(bomb, dest, { maxEntries: 10, maxExpandedBytes: 1000 }),
      /expands to more than the limit/,
    );
    const many = await zipOf(
      Array.from({ length: 5 }, (_, i): [string, string, number] => [`f${i}`, 'x', 0o100644]),
    );
    await assert.rejects(
      extractZip(many, dest, { maxEntries: 3, maxExpandedBytes: 1e6 }),
      /more than 3 entries/,
    );
    await assert.rejects(extractZip(Buffer.from('PK\x03\x04 not really'), dest), /not a valid zip archive/);
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

const LINK = 0o120777;
const REG = 0o100644;

/** Expects invalid_archive matching `pattern`, an empty destination and an untouched canary beside it. */
async function refusedCleanly(entries: [string, string, number][], pattern: RegExp): Promise<void> {
  const archive = await zipOf(entries);
  const parent = await mkdtemp(path.join(os.tmpdir(), 'kumo-unzip-'));
  const dest = path.join(parent, 'a', 'b', 'dest');
  const canary = path.join(parent, 'a', 'canary');
  try {
    await mkdir(dest, { recursive: true });
    await writeFile(canary, 'original');
    await assert.rejects(extractZip(archive, dest), (err: KumoError) => {
      assert.equal(err.code, 'invalid_archive');
      assert.match(err.message, pattern);
      return true;
    });
    assert.deepEqual(await readdir(dest), [], 'nothing was written');
    assert.equal(await readFile(canary, 'utf8'), 'original', 'the canary beside the bundle is untouched');
    assert.deepEqual((await readdir(path.join(parent, 'a'))).sort(), ['b', 'canary']);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

test('a chain of harmless-looking symlinks that leaves the bundle is refused', async () => {
  const chain: [string, string, number][] = [
    ['ok.js', 'x', REG],
    ['q', '.', LINK],
    ['u1', 'q/..', LINK],
    ['u2', 'u1/..', LINK],
  ];
  await refusedCleanly(chain, /symlink "u1" points outside the bundle/);
  await refusedCleanly([...chain, ['u2/canary', 'pwned', REG]], /"u2\/canary" lies inside symlink "u2"/);
});

test('a .kumo symlink chain and ".." through an earlier symlink are refused', async () => {
  await refusedCleanly(
    [
      ['q', '.', LINK],
      ['.kumo', 'q/../kumo', LINK],
    ],
    /symlink "\.kumo" points outside the bundle/,
  );
  await refusedCleanly(
    [
      ['s/l', '..', LINK],
      ['e', 's/l/..', LINK],
    ],
    /symlink "e" points outside the bundle/,
  );
});

test('entries under a symlink and duplicate entries are refused', async () => {
  await refusedCleanly(
    [
      ['sub/ok.js', 'x', REG],
      ['l', 'sub', LINK],
      ['l/x', 'through the link', REG],
    ],
    /entry "l\/x" lies inside symlink "l"/,
  );
  await refusedCleanly(
    [
      ['x', 'a file', REG],
      ['x', '.', LINK],
    ],
    /entry "x" appears twice/,
  );
  await refusedCleanly(
    [
      ['sub/', '', 0o040755],
      ['x', 'sub', LINK],
      ['x/', '', 0o040755],
    ],
    /entry "x\/" appears twice/,
  );
});
