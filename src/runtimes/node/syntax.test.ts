import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { moduleFormat } from './syntax.ts';

/** A bundle folder holding `files`. */
async function bundle(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kumo-syntax-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/** parsesQuickly in a Node started as the build shim is (with vm modules). */
function parsesQuickly(dir: string, file: string): boolean {
  const script = `const { parsesQuickly } = await import(${JSON.stringify(new URL('./syntax.ts', import.meta.url).href)});
process.stdout.write(String(await parsesQuickly(${JSON.stringify(dir)}, ${JSON.stringify(file)})));`;
  const out = execFileSync(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  return out === 'true';
}

test('the module format follows the extension, then the nearest package.json inside the bundle', async () => {
  const dir = await bundle({
    'package.json': '{"type":"module"}',
    'a.js': '',
    'lib/package.json': '{"type":"commonjs"}',
    'lib/b.js': '',
    'plain/package.json': '{}',
    'plain/c.js': '',
    'bad/package.json': '{',
    'bad/d.js': '',
  });
  try {
    assert.equal(await moduleFormat(dir, 'x.mjs'), 'module');
    assert.equal(await moduleFormat(dir, 'lib/x.cjs'), 'commonjs');
    assert.equal(await moduleFormat(dir, 'a.js'), 'module');
    assert.equal(await moduleFormat(dir, 'lib/b.js'), 'commonjs');
    assert.equal(await moduleFormat(dir, 'plain/c.js'), 'detect');
    assert.equal(
      await moduleFormat(dir, 'bad/d.js'),
      undefined,
      'an unreadable package.json is left to node --check',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const bare = await bundle({ 'e.js': '' });
  try {
    assert.equal(await moduleFormat(bare, 'e.js'), 'detect', 'nothing above the bundle is consulted');
  } finally {
    await rm(bare, { recursive: true, force: true });
  }
});

test('code that parses as Node will load it passes; anything else is left to node --check', async () => {
  const dir = await bundle({
    'esm.mjs': 'export const handler = async () => "hi";\nawait 0;\n',
    'cjs.cjs': '#!/usr/bin/env node\nif (!module) return;\nexports.handler = () => 1;\n',
    'detect-esm.js': 'import fs from "node:fs";\nexport default () => fs;\n',
    'broken.mjs': 'export const a = 1;\nfunction (\n',
    'with.mjs': 'with (Math) { max(1); }\n',
    'typed/package.json': '{"type":"module"}',
    'typed/script-only.js': 'with (Math) { max(1); }\n',
    'lib/package.json': '{"type":"commonjs"}',
    'lib/esm-in-cjs.js': 'export const a = 1;\n',
  });
  try {
    assert.equal(parsesQuickly(dir, 'esm.mjs'), true, 'an ES module with top-level await');
    assert.equal(parsesQuickly(dir, 'cjs.cjs'), true, 'CommonJS with a hashbang and a top-level return');
    assert.equal(parsesQuickly(dir, 'detect-esm.js'), true, 'ES module syntax detected in a .js');
    assert.equal(parsesQuickly(dir, 'broken.mjs'), false);
    assert.equal(parsesQuickly(dir, 'with.mjs'), false, 'sloppy-mode syntax is not a module');
    assert.equal(parsesQuickly(dir, 'typed/script-only.js'), false, 'type: module means module');
    assert.equal(parsesQuickly(dir, 'lib/esm-in-cjs.js'), false, 'type: commonjs means CommonJS');
    assert.equal(parsesQuickly(dir, 'missing.js'), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
