import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { KumoError } from '../../core/index.ts';
import { isTypeScript, resolveEntry } from './entry.ts';

/** Runs `fn` with a temporary folder holding empty files at `paths`. */
async function withFiles(paths: string[], fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kumo-entry-'));
  try {
    for (const path of paths) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), '');
    }
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('without a handler, the first default entry that exists wins (index.ts before index.js)', () =>
  withFiles(['index.js', 'index.ts', 'handler.js'], async (dir) => {
    assert.deepEqual(await resolveEntry(dir, undefined), { file: 'index.ts', exportName: null });
  }));

test('without a handler, handler.js is found when there is no index', () =>
  withFiles(['handler.js'], async (dir) => {
    assert.deepEqual(await resolveEntry(dir, undefined), { file: 'handler.js', exportName: null });
  }));

test('a file path is used as is', () =>
  withFiles(['src/index.ts'], async (dir) => {
    assert.deepEqual(await resolveEntry(dir, 'src/index.ts'), { file: 'src/index.ts', exportName: null });
    assert.deepEqual(await resolveEntry(dir, './src/index.ts'), { file: 'src/index.ts', exportName: null });
  }));

test('Lambda notation file.export and file:export name a file without extension and an export', () =>
  withFiles(['index.mjs', 'src/app.ts'], async (dir) => {
    assert.deepEqual(await resolveEntry(dir, 'index.handler'), { file: 'index.mjs', exportName: 'handler' });
    assert.deepEqual(await resolveEntry(dir, 'index:main'), { file: 'index.mjs', exportName: 'main' });
    assert.deepEqual(await resolveEntry(dir, 'src/app.run'), { file: 'src/app.ts', exportName: 'run' });
    assert.deepEqual(await resolveEntry(dir, 'src/app.ts:run'), { file: 'src/app.ts', exportName: 'run' });
  }));

test('a path without extension and a folder resolve like imports', () =>
  withFiles(['lib/main.js', 'api/index.ts'], async (dir) => {
    assert.deepEqual(await resolveEntry(dir, 'lib/main'), { file: 'lib/main.js', exportName: null });
    assert.deepEqual(await resolveEntry(dir, 'api'), { file: 'api/index.ts', exportName: null });
  }));

test('a missing handler is unknown_handler naming what was looked for', async () => {
  await withFiles(['other.js'], async (dir) => {
    await assert.rejects(resolveEntry(dir, undefined), (err: unknown) => {
      assert.ok(err instanceof KumoError);
      assert.equal(err.code, 'unknown_handler');
      assert.match(err.message, /index\.ts, index\.mts, index\.js/);
      return true;
    });
    await assert.rejects(
      resolveEntry(dir, 'handler.js'),
      /handler "handler\.js" not found: none of handler\.js exists/,
    );
    await assert.rejects(
      resolveEntry(dir, 'index.handler'),
      /index\.js, index\.mjs, index\.cjs, index\.ts, index\.mts/,
    );
  });
});

test('a handler outside the bundle is refused', () =>
  withFiles(['index.js'], async (dir) => {
    await assert.rejects(resolveEntry(dir, '../index.js'), { code: 'unknown_handler' });
    await assert.rejects(resolveEntry(dir, '/etc/passwd'), { code: 'unknown_handler' });
  }));

test('isTypeScript tells TypeScript entries from JavaScript ones', () => {
  assert.equal(isTypeScript('a/index.ts'), true);
  assert.equal(isTypeScript('index.mts'), true);
  assert.equal(isTypeScript('index.mjs'), false);
  assert.equal(isTypeScript('index.js'), false);
});
