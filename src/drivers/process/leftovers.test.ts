import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ownedTempDir, processAlive, sweepTempDirs, tempDirOwner } from './leftovers.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  return Number(pid);
}

test('owned temporary folders carry the server pid, and only a gone server’s are swept', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kumo-leftovers-test-'));
  try {
    const mine = await ownedTempDir(base, 'run');
    assert.equal(tempDirOwner(mine.split('/').pop() ?? ''), process.pid);
    const gone = deadPid();
    assert.equal(processAlive(gone), false);
    await mkdir(join(base, `kumo-sandbox-${gone}-abc123`));
    await mkdir(join(base, `kumo-shims-${gone}-def456`, 'inner'), { recursive: true });
    await mkdir(join(base, 'kumo-run-1-alive00')); // pid 1 is alive
    await mkdir(join(base, 'kumo-fn-unrelated'));
    await mkdir(join(base, 'kumo-run-notapid-x'));
    assert.equal(await sweepTempDirs([base, base]), 2);
    assert.deepEqual(
      (await readdir(base)).sort(),
      ['kumo-fn-unrelated', 'kumo-run-1-alive00', 'kumo-run-notapid-x', mine.split('/').pop()].sort(),
    );
    assert.equal(await sweepTempDirs([join(base, 'missing')]), 0);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
