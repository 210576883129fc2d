import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { launchRecordFile } from '../runtimes/index.ts';
import { BuildStore } from './build-store.ts';

const USED = 'a'.repeat(64);
const UNUSED = 'b'.repeat(64);
const HELD = 'c'.repeat(64);

/** A build store in a fresh folder whose versions use the hashes in `used`. */
async function storeWith(used: Set<string>, forget: (p: string) => Promise<void> = async () => {}) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kumo-builds-'));
  const builds = new BuildStore({
    root,
    bundlesDir: path.join(root, 'bundles'),
    forget,
    buildInUse: async () => false,
    bundleInUse: async () => false,
    hashesInUse: async (hashes) => new Set(hashes.filter((h) => used.has(h))),
  });
  const make = async (hash: string) => {
    await mkdir(path.dirname(launchRecordFile(builds.dirFor(hash))), { recursive: true });
    await writeFile(launchRecordFile(builds.dirFor(hash)), '{}');
  };
  return { root, builds, make };
}

test('a sweep removes the builds no version uses, keeps used and held ones, and crash leftovers of fetches go', async () => {
  const { root, builds, make } = await storeWith(new Set([USED]));
  try {
    for (const h of [USED, UNUSED, HELD]) await make(h);
    await mkdir(path.join(root, `${UNUSED}.fetch-0a1b`));
    await mkdir(path.join(root, `${HELD}.fetch-0a1b`));
    const release = await builds.hold(HELD);
    assert.deepEqual(await builds.sweep(), [UNUSED]);
    assert.equal(await builds.has(USED), true);
    assert.equal(await builds.has(HELD), true, 'a deploy or fetch holds it: its version is not recorded yet');
    assert.equal(existsSync(path.join(root, `${UNUSED}.fetch-0a1b`)), false);
    assert.equal(existsSync(path.join(root, `${HELD}.fetch-0a1b`)), true, 'a fetch in progress');
    release();
    release();
    assert.deepEqual(await builds.sweep(), [HELD], 'released (twice is once)');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a hold taken while its build is being removed resolves only once the folder is gone', async () => {
  let unblock = () => {};
  const blocked = new Promise<void>((r) => (unblock = r));
  let entered = () => {};
  const inForget = new Promise<void>((r) => (entered = r));
  const { root, builds, make } = await storeWith(new Set(), () => {
    entered();
    return blocked;
  });
  try {
    await make(UNUSED);
    const sweeping = builds.sweep();
    // The removal waits in forget; a deploy of the same content asks for the hash meanwhile.
    await inForget;
    let held = false;
    const hold = builds.hold(UNUSED).then((release) => {
      held = true;
      return release;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(held, false, 'not while the folder is half removed');
    unblock();
    const release = await hold;
    assert.equal(await builds.has(UNUSED), false, 'the deploy sees no build, so it builds again');
    assert.deepEqual(await sweeping, [UNUSED]);
    release();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('release never removes a folder outside its own build folder (another node names its own)', async () => {
  const { root, builds } = await storeWith(new Set());
  const other = await mkdtemp(path.join(os.tmpdir(), 'kumo-other-node-'));
  try {
    await mkdir(path.join(other, UNUSED));
    await builds.release(path.join(other, UNUSED));
    assert.equal(existsSync(path.join(other, UNUSED)), true);
    await mkdir(builds.dirFor(UNUSED), { recursive: true });
    await builds.release(builds.dirFor(UNUSED));
    assert.equal(existsSync(builds.dirFor(UNUSED)), false);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  }
});
