import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BuildStore } from '../build/index.ts';
import { openSqliteStores } from '../store/index.ts';
import { BuildShare } from './build-share.ts';

const MINUTE = 60_000;
const HASH = 'd'.repeat(64);

test('publishing a stored build again spares it from collection for the grace period; then it goes when no version names it', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kumo-share-'));
  const stores = openSqliteStores(':memory:');
  try {
    const builds = new BuildStore({
      root,
      bundlesDir: path.join(root, 'bundles'),
      forget: async () => {},
      buildInUse: async () => false,
      bundleInUse: async () => false,
      hashesInUse: (hashes) => stores.functions.hashesInUse(hashes),
    });
    let now = 0;
    const share = new BuildShare({ cluster: stores.cluster, builds, now: () => now });
    await mkdir(builds.dirFor(HASH), { recursive: true });
    await writeFile(path.join(builds.dirFor(HASH), 'index.js'), 'export default 1;\n');
    await share.publish(HASH, builds.dirFor(HASH));
    // Hours later the same code is deployed again (its function was deleted meanwhile): the stored copy is reused.
    now = 120 * MINUTE;
    await share.publish(HASH, builds.dirFor(HASH));
    now += MINUTE;
    assert.deepEqual(
      await share.collect(),
      { removed: [], more: false },
      'just published: its version is coming',
    );
    now += 60 * MINUTE;
    assert.deepEqual(await share.collect(), { removed: [HASH], more: false });
    assert.equal(await stores.cluster.hasBuild(HASH), false);
  } finally {
    await stores.close();
    await rm(root, { recursive: true, force: true });
  }
});
