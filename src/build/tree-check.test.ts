import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { KumoError } from '../core/index.ts';
import { checkTree } from './tree-check.ts';

/** A git-like folder: `files` written, `links` made with fs.symlink ([path, target] in order). */
async function repoOf(files: string[], links: [string, string][]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kumo-tree-'));
  for (const f of files) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await writeFile(path.join(root, f), 'x');
  }
  for (const [at, target] of links) {
    await mkdir(path.dirname(path.join(root, at)), { recursive: true });
    await symlink(target, path.join(root, at));
  }
  return root;
}

async function refused(files: string[], links: [string, string][], pattern: RegExp): Promise<void> {
  const root = await repoOf(files, links);
  try {
    await assert.rejects(checkTree(root, 'repository r'), (err: KumoError) => {
      assert.equal(err.code, 'source_failed');
      assert.match(err.message, /^repository r: /);
      assert.match(err.message, pattern);
      return true;
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('a tree of files and inside symlinks passes, with its counts', async () => {
  const root = await repoOf(
    ['index.js', 'lib/v1/a.js'],
    [
      ['q', '.'],
      ['current', 'q/lib/v1'],
      ['lib/latest', '../current'],
      ['later', 'missing/../lib'],
    ],
  );
  try {
    assert.deepEqual(await checkTree(root, 'repository r'), { files: 6, bytes: 2 });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a chain of harmless-looking symlinks that leaves the repository is refused', () =>
  refused(
    ['index.js'],
    [
      ['q', '.'],
      ['u1', 'q/..'],
      ['u2', 'u1/..'],
    ],
    /symlink "u1" points outside the repository/,
  ));

test('a .kumo symlink chain and ".." through another symlink are refused', async () => {
  await refused(
    ['index.js'],
    [
      ['q', '.'],
      ['.kumo', 'q/../kumo'],
    ],
    /symlink "\.kumo" points outside the repository/,
  );
  await refused(
    ['index.js'],
    [
      ['s/l', '..'],
      ['e', 's/l/..'],
    ],
    /symlink "e" points outside the repository/,
  );
});

test('symlink loops are refused', () =>
  refused(
    ['index.js'],
    [
      ['a', 'b'],
      ['b', 'a'],
    ],
    /is a loop/,
  ));

test('absolute and plainly leaving symlinks are still refused', async () => {
  await refused([], [['l', '/etc/passwd']], /symlink "l" points to an absolute path/);
  await refused([], [['d/l', '../../x']], /symlink "d\/l" points outside the repository/);
});
