/** Reachability of bind sources for the sandbox's host user. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accessProblem } from './path-access.ts';

test('names the folder that blocks the sandbox user, and accepts readable paths', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kumo-access-'));
  try {
    const build = join(base, 'data', 'builds', 'b1');
    await mkdir(build, { recursive: true });
    await writeFile(join(build, 'index.js'), '');
    await chmod(base, 0o755);
    await chmod(join(base, 'data'), 0o700);
    const problem = await accessProblem(build, 65534, 65534, 'read');
    assert.match(problem ?? '', /cannot enter .*\/data .*chmod o\+x/);
    await chmod(join(base, 'data'), 0o711);
    assert.equal(await accessProblem(build, 65534, 65534, 'read'), undefined);
    assert.match((await accessProblem(build, 65534, 65534, 'write')) ?? '', /cannot write/);
    assert.equal(await accessProblem(build, process.getuid?.() ?? 0, 0, 'write'), undefined);
    assert.match((await accessProblem(join(base, 'missing'), 65534, 65534, 'read')) ?? '', /does not exist/);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
