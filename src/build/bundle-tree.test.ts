import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BundleTree, MAX_SYMLINK_HOPS, type BundleEntry } from './bundle-tree.ts';

class Refused extends Error {}

const refuse = (reason: string) => new Refused(reason);

const file = (p: string, body = 'x', executable = false): BundleEntry => ({
  kind: 'file',
  path: p,
  executable,
  data: [Buffer.from(body)],
});
const dir = (p: string): BundleEntry => ({ kind: 'dir', path: p });
const link = (p: string, target: string): BundleEntry => ({ kind: 'symlink', path: p, target });

/** The refusal's reason when the entries are added and checked, or undefined when they pass. */
function reasonFor(entries: BundleEntry[]): string | undefined {
  const tree = new BundleTree({ refuse });
  try {
    for (const e of entries) tree.add(e);
    tree.check();
    return undefined;
  } catch (err) {
    if (err instanceof Refused) return err.message;
    throw err;
  }
}

test('paths: normalised, never absolute, never "..", never NUL, never empty', () => {
  assert.equal(reasonFor([file('./a//b/'), dir('./'), dir('.')]), undefined);
  assert.match(reasonFor([file('a/../b')]) ?? '', /entry "a\/..\/b" has a ".." path/);
  assert.match(reasonFor([file('..')]) ?? '', /".." path/);
  assert.match(reasonFor([file('/etc/x')]) ?? '', /entry "\/etc\/x" has an absolute path/);
  assert.match(reasonFor([file('a\0b')]) ?? '', /NUL byte/);
  assert.match(reasonFor([file('./')]) ?? '', /entry ".\/" has an empty path/);
  assert.match(reasonFor([link('', 'a')]) ?? '', /empty path/);
});

test('every parent is a real folder of the tree, whatever the order', () => {
  assert.equal(reasonFor([file('a/b/c'), dir('a'), dir('a/b/')]), undefined, 'implicit folders are fine');
  assert.match(reasonFor([dir('d'), link('l', 'd'), file('l/x')]) ?? '', /"l\/x" lies inside symlink "l"/);
  assert.match(reasonFor([link('l', 'd'), dir('l/sub')]) ?? '', /"l\/sub" lies inside symlink "l"/);
  assert.match(reasonFor([link('l', '.'), link('l/m/n', '.')]) ?? '', /lies inside symlink "l"/);
  assert.match(
    reasonFor([file('l/x'), link('l', '.')]) ?? '',
    /entry "l" appears twice \(as a dir and a symlink\)/,
  );
  assert.match(reasonFor([file('f'), file('f/x')]) ?? '', /"f\/x" lies inside file "f"/);
});

test('the same path twice is refused unless both are folders', () => {
  assert.equal(reasonFor([dir('d'), dir('d/'), dir('./d')]), undefined);
  assert.match(reasonFor([file('x'), file('x')]) ?? '', /entry "x" appears twice \(as a file and a file\)/);
  assert.match(reasonFor([file('x'), link('x', '.')]) ?? '', /appears twice/);
  assert.match(reasonFor([link('x', '.'), dir('x')]) ?? '', /appears twice \(as a symlink and a dir\)/);
  assert.match(reasonFor([dir('x'), file('x')]) ?? '', /appears twice/);
  assert.match(reasonFor([link('x', 'a'), link('./x', 'b')]) ?? '', /appears twice/);
});

test('symlinks resolve physically through chains, as the kernel does', () => {
  const outside = /points outside the bundle/;
  // Each of these looks harmless on its own: only the chain leaves.
  assert.match(reasonFor([link('q', '.'), link('u1', 'q/..')]) ?? '', outside);
  assert.match(reasonFor([link('u1', 'q/..'), link('q', '.')]) ?? '', outside, 'order does not matter');
  assert.match(reasonFor([link('s/l', '..'), link('e', 's/l/..')]) ?? '', outside);
  assert.match(reasonFor([dir('a/b'), link('a/b/up', '../..'), link('x', 'a/b/up/..')]) ?? '', outside);
  assert.match(reasonFor([link('.kumo', 'q/../x'), link('q', '.')]) ?? '', /symlink ".kumo" points outside/);
  assert.match(reasonFor([link('l', '..')]) ?? '', outside);
  assert.match(reasonFor([link('d/l', '../../x')]) ?? '', outside);
  assert.match(reasonFor([link('l', 'missing/../..')]) ?? '', outside, 'a missing name is a folder-to-be');
  assert.match(reasonFor([file('f'), link('l', 'f/../..')]) ?? '', outside);
  assert.match(reasonFor([link('l', '/')]) ?? '', /symlink "l" points to an absolute path/);
  assert.match(reasonFor([link('l', '')]) ?? '', /empty or NUL target/);
  // Staying inside, even through links and `..`, is fine; so is dangling inside.
  assert.equal(reasonFor([link('q', '.'), link('r', 'q/q/q/./'), link('s/t', '../r/s')]), undefined);
  assert.equal(reasonFor([dir('a/b'), link('a/b/up', '..'), link('x', 'a/b/up/..')]), undefined);
  assert.equal(reasonFor([link('later', 'not/yet/../../there')]), undefined);
  assert.equal(reasonFor([dir('d/e'), link('d/e/l', '../../d'), link('m', 'd/e/l/e/l/e/..')]), undefined);
});

test('loops and chains longer than the kernel follows are refused', () => {
  assert.match(reasonFor([link('a', 'b'), link('b', 'a')]) ?? '', /is a loop/);
  assert.match(reasonFor([link('self', 'self')]) ?? '', /is a loop/);
  assert.match(reasonFor([link('self', './self/x')]) ?? '', /is a loop/);
  const chain = (n: number) => [
    dir('d'),
    dir('end'),
    link('l0', 'end'),
    ...Array.from({ length: n }, (_, i) => link(`l${i + 1}`, `l${i}`)),
  ];
  assert.equal(reasonFor(chain(MAX_SYMLINK_HOPS - 1)), undefined, 'l39 follows 40 links');
  assert.match(reasonFor(chain(MAX_SYMLINK_HOPS)) ?? '', /chain of more than 40/);
  assert.match(reasonFor([link('q', '.'), link('m', 'q/'.repeat(40) + 'x')]) ?? '', /chain of more than 40/);
  // Long targets through long chains stay cheap: each link is resolved once, then remembered.
  const many = Array.from({ length: 5000 }, (_, i) => link(`m${i}`, 'd/../'.repeat(800) + 'l38/x'));
  const started = performance.now();
  assert.equal(reasonFor([...chain(MAX_SYMLINK_HOPS - 2), ...many]), undefined);
  assert.ok(performance.now() - started < 2000, 'linear in the targets');
});

async function scratch(): Promise<{ parent: string; dest: string; done: () => Promise<void> }> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'kumo-bundle-tree-'));
  const dest = path.join(parent, 'dest');
  await mkdir(dest);
  return { parent, dest, done: () => rm(parent, { recursive: true, force: true }) };
}

test('write: folders, then files with 0644/0755, then symlinks, whatever the order given', async () => {
  const s = await scratch();
  try {
    const tree = new BundleTree({ refuse });
    for (const e of [
      link('run', 'bin/run.sh'),
      file('bin/run.sh', '#!/bin/sh\n', true),
      file('a/b.txt', 'b'),
      dir('empty'),
    ])
      tree.add(e);
    assert.deepEqual(await tree.write(s.dest), { files: 3, bytes: 11 });
    assert.equal((await lstat(path.join(s.dest, 'bin/run.sh'))).mode & 0o7777, 0o755);
    assert.equal((await lstat(path.join(s.dest, 'a/b.txt'))).mode & 0o7777, 0o644);
    assert.equal((await lstat(path.join(s.dest, 'empty'))).isDirectory(), true);
    assert.equal(await readlink(path.join(s.dest, 'run')), 'bin/run.sh');
    assert.equal(await readFile(path.join(s.dest, 'run'), 'utf8'), '#!/bin/sh\n');
  } finally {
    await s.done();
  }
});

test('write: a refused tree writes nothing', async () => {
  const s = await scratch();
  try {
    const tree = new BundleTree({ refuse });
    for (const e of [file('ok.js'), link('q', '.'), link('u', 'q/..')]) tree.add(e);
    await assert.rejects(tree.write(s.dest), Refused);
    assert.deepEqual(await readdir(s.dest), []);
  } finally {
    await s.done();
  }
});

test('write: never opens through a link, and a half-written bundle is removed', async () => {
  const s = await scratch();
  try {
    const canary = path.join(s.parent, 'canary');
    await writeFile(canary, 'original');
    // Breaks the caller's promise of an empty folder: what is already there is never followed.
    await symlink(canary, path.join(s.dest, 'x'));
    const tree = new BundleTree({ refuse });
    for (const e of [dir('a/b'), file('a/b/c', 'c'), file('x', 'pwned')]) tree.add(e);
    await assert.rejects(tree.write(s.dest), { code: 'EEXIST' });
    assert.equal(await readFile(canary, 'utf8'), 'original');
    assert.deepEqual(await readdir(s.dest), [], 'emptied again');
    assert.deepEqual((await readdir(s.parent)).sort(), ['canary', 'dest']);
  } finally {
    await s.done();
  }
});

test('a git tree is named as a repository in refusals', () => {
  const tree = new BundleTree({ refuse, rootName: 'repository' });
  tree.add(link('l', '..'));
  assert.throws(() => tree.check(), /symlink "l" points outside the repository \(".."\)/);
});

test('an entry added after a check is resolved again with the others', () => {
  const tree = new BundleTree({ refuse });
  tree.add(link('l', 'x/../..'));
  tree.add(link('x', '.'));
  assert.throws(() => tree.check(), Refused);
  const later = new BundleTree({ refuse });
  later.add(link('l', 'x/..'));
  later.check(); // x missing: a folder-to-be, so l is the root
  later.add(link('x', '.'));
  assert.throws(() => later.check(), /symlink "l" points outside the bundle/);
});
