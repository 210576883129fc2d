import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Parser } from 'tar';
import { packFolder } from './bundle.ts';
import { CliError } from './io.ts';

interface Listed {
  path: string;
  type: string;
  mode: number | undefined;
  linkpath: string | undefined;
  mtime: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

/** Reads the bundle back with node-tar, as the server does. */
async function list(data: Buffer): Promise<Listed[]> {
  const entries: Listed[] = [];
  const parser = new Parser({
    onReadEntry: (e) => {
      entries.push({
        path: e.path,
        type: e.type,
        mode: e.mode,
        linkpath: e.linkpath,
        mtime: e.mtime?.getTime(),
        uid: e.uid,
        gid: e.gid,
      });
      e.resume();
    },
  });
  const ended = once(parser, 'end');
  parser.end(data);
  await ended;
  return entries;
}

async function paths(data: Buffer): Promise<string[]> {
  return (await list(data)).filter((e) => e.type !== 'Directory').map((e) => e.path);
}

/** Creates `files` (path → content) under a fresh temp folder; cleaned up by the test. */
async function tree(
  t: { after(fn: () => Promise<void>): void },
  files: Record<string, string>,
): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'kumo-bundle-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  return root;
}

test('leaves out what .gitignore and .kumoignore match, and .kumoignore can re-include', async (t) => {
  const root = await tree(t, {
    '.gitignore': 'dist/\n*.log\n',
    '.kumoignore': 'secret.txt\n!dist/\n',
    'index.ts': 'export default 1',
    'debug.log': 'x',
    'secret.txt': 'x',
    'dist/out.js': 'x',
  });
  const bundle = await packFolder(root);
  assert.deepEqual(await paths(bundle.data), ['.gitignore', '.kumoignore', 'dist/out.js', 'index.ts']);
  assert.equal(bundle.files, 4);
});

test('applies a nested .gitignore relative to its folder, overriding the parent', async (t) => {
  const root = await tree(t, {
    '.gitignore': '*.log\n',
    'index.ts': '1',
    'src/.gitignore': '!keep.log\n/local.ts\n',
    'src/keep.log': 'k',
    'src/drop.log': 'd',
    'src/local.ts': 'l',
    'src/deep/local.ts': 'stays: /local.ts is anchored to src/',
    'other/keep.log': 'the negation does not reach here',
  });
  assert.deepEqual(await paths((await packFolder(root)).data), [
    '.gitignore',
    'index.ts',
    'src/.gitignore',
    'src/deep/local.ts',
    'src/keep.log',
  ]);
});

test('always leaves out node_modules and .git at any depth, whatever the ignore files say', async (t) => {
  const root = await tree(t, {
    '.kumoignore': '!node_modules/\n!.git/\n',
    'index.ts': '1',
    'node_modules/dep/index.js': 'x',
    '.git/HEAD': 'ref',
    'lib/node_modules/dep/index.js': 'x',
    'lib/sub/.git': 'gitdir: elsewhere',
    'lib/a.ts': 'a',
  });
  assert.deepEqual(await paths((await packFolder(root)).data), ['.kumoignore', 'index.ts', 'lib/a.ts']);
});

test('keeps the executable bit and normalises the other mode bits', async (t) => {
  const root = await tree(t, { 'run.sh': '#!/bin/sh\necho hi\n', 'plain.txt': 'x', 'group.txt': 'x' });
  await chmod(path.join(root, 'run.sh'), 0o700);
  await chmod(path.join(root, 'group.txt'), 0o664);
  const byPath = new Map((await list((await packFolder(root)).data)).map((e) => [e.path, e]));
  assert.equal(byPath.get('run.sh')?.mode, 0o755);
  assert.equal(byPath.get('plain.txt')?.mode, 0o644);
  assert.equal(byPath.get('group.txt')?.mode, 0o644);
});

test('gives identical bytes for identical content, whatever the mtimes and order of creation', async (t) => {
  const files = { 'b.ts': 'b', 'a/z.ts': 'z', 'a/y.ts': 'y', 'kumo.yaml': 'name: greet\n' };
  const first = await tree(t, files);
  const reversed = Object.fromEntries(Object.entries(files).reverse());
  const second = await tree(t, reversed);
  await utimes(path.join(second, 'b.ts'), new Date('2001-01-01'), new Date('2001-01-01'));
  const [a, b] = [await packFolder(first), await packFolder(second)];
  assert.ok(a.data.equals(b.data), 'bundles differ');
  for (const entry of await list(a.data)) {
    assert.equal(entry.mtime, 0, `${entry.path} mtime`);
    assert.equal(entry.uid, 0, `${entry.path} uid`);
    assert.equal(entry.gid, 0, `${entry.path} gid`);
  }
  await writeFile(path.join(second, 'b.ts'), 'changed');
  assert.ok(!a.data.equals((await packFolder(second)).data), 'a content change must change the bytes');
});

test('skips symlinks that leave the folder and stores links that stay inside as links', async (t) => {
  const outside = await tree(t, { 'secret.txt': 'do not upload' });
  const root = await tree(t, { 'index.ts': '1', 'lib/util.ts': 'u' });
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'absolute-out'));
  await symlink('../../escape', path.join(root, 'lib', 'relative-out'));
  await symlink(outside, path.join(root, 'dir-out'));
  // Lexically inside, but through dir-out it lands outside.
  await symlink('dir-out/secret.txt', path.join(root, 'via-link'));
  await symlink('../index.ts', path.join(root, 'lib', 'inside.ts'));
  await symlink(path.join(root, 'lib', 'util.ts'), path.join(root, 'absolute-inside'));
  const warnings: string[] = [];
  const bundle = await packFolder(root, { onWarning: (m) => warnings.push(m) });
  const entries = await list(bundle.data);
  assert.deepEqual(
    entries.filter((e) => e.type === 'SymbolicLink').map((e) => [e.path, e.linkpath]),
    [
      ['absolute-inside', 'lib/util.ts'],
      ['lib/inside.ts', '../index.ts'],
    ],
  );
  assert.ok(!entries.some((e) => e.path.includes('secret')), 'nothing from outside is packaged');
  assert.deepEqual(warnings.sort(), [
    'skipping absolute-out: symlink points outside the folder',
    'skipping dir-out: symlink points outside the folder',
    'skipping lib/relative-out: symlink points outside the folder',
    'skipping via-link: symlink points outside the folder',
  ]);
});

test('round-trips paths longer than the 100 bytes of a ustar name', async (t) => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(90)}.ts`;
  const root = await tree(t, { [long]: 'x' });
  assert.deepEqual(await paths((await packFolder(root)).data), [long]);
});

test('refuses a folder with nothing to deploy', async (t) => {
  const root = await tree(t, { '.gitignore': '*\n' });
  await assert.rejects(packFolder(root), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.match(err.message, /nothing to deploy/);
    return true;
  });
});

test('refuses a bundle over the upload limit, naming the limit', async (t) => {
  const root = await tree(t, { 'noise.bin': randomBytes(64 * 1024).toString('latin1') });
  await assert.rejects(packFolder(root, { maxBytes: 10_000 }), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.match(err.message, /over the 10\.0 kB upload limit/);
    return true;
  });
});

test('reports a folder that does not exist', async (t) => {
  const root = await tree(t, {});
  await assert.rejects(packFolder(path.join(root, 'missing')), /does not exist/);
});
