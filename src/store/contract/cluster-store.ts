/** The ClusterStore contract: change feed, builds and leases. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { versionOf, withStores, type OpenStores } from './support.ts';

/** Every ClusterStore passes these. */
export function describeClusterStoreContract(open: OpenStores): void {
  describe('ClusterStore contract', () => {
    test('announced changes are read back in order after a seq, and pruning keeps the latest', () =>
      withStores(open, async ({ cluster: c }) => {
        assert.equal(await c.lastChange(), 0);
        const a = await c.announce('f', 1000);
        const b = await c.announce('g', 2000);
        assert.ok(b > a);
        assert.deepEqual(await c.changesSince(0, 10), [
          { seq: a, function: 'f' },
          { seq: b, function: 'g' },
        ]);
        assert.deepEqual(await c.changesSince(a, 10), [{ seq: b, function: 'g' }]);
        assert.deepEqual(await c.changesSince(0, 1), [{ seq: a, function: 'f' }]);
        await c.pruneChanges(10_000);
        assert.equal(await c.lastChange(), b, 'the latest change is kept, so seq never goes back');
        const d = await c.announce('h', 3000);
        assert.ok(d > b);
      }));

    test('a build is stored once by hash and read back byte for byte; touching says whether it is stored', () =>
      withStores(open, async ({ cluster: c }) => {
        const blob = Buffer.from([0, 1, 2, 255, 0, 7]);
        assert.equal(await c.hasBuild('abc'), false);
        assert.equal(await c.getBuild('abc'), undefined);
        assert.equal(await c.touchBuild('abc', 1), false);
        await c.putBuild('abc', { sha256: 's1', blob }, 1);
        await c.putBuild('abc', { sha256: 's2', blob: Buffer.from('other') }, 2);
        assert.equal(await c.hasBuild('abc'), true);
        assert.deepEqual(await c.getBuild('abc'), { sha256: 's1', blob });
        assert.equal(await c.touchBuild('abc', 5), true);
      }));

    test('unused builds published before the cut-off are deleted; used, recent and touched ones stay', () =>
      withStores(open, async ({ cluster: c, functions }) => {
        const put = (hash: string, at: number) =>
          c.putBuild(hash, { sha256: `s-${hash}`, blob: Buffer.from(hash) }, at);
        await functions.addVersion(versionOf('f', 1, { hash: 'used' }));
        await put('used', 100);
        await put('unused-1', 100);
        await put('unused-2', 200);
        await put('fresh', 5000);
        await put('touched', 100);
        // A deploy of identical code finds 'touched' stored: touching it spares it until its version is recorded.
        assert.equal(await c.touchBuild('touched', 4000), true);
        assert.equal(await c.touchBuild('touched', 50), true, 'an older time does not move it back');
        assert.deepEqual(await c.deleteUnusedBuilds(1000, 1), ['unused-1'], 'oldest first, bounded');
        assert.deepEqual(await c.deleteUnusedBuilds(1000, 10), ['unused-2']);
        assert.deepEqual(await c.deleteUnusedBuilds(1000, 10), []);
        for (const kept of ['used', 'fresh', 'touched']) assert.equal(await c.hasBuild(kept), true, kept);
        assert.equal(await c.hasBuild('unused-1'), false);
        assert.deepEqual((await c.deleteUnusedBuilds(10_000, 10)).sort(), ['fresh', 'touched']);
        assert.equal(await c.hasBuild('used'), true, 'a version names it, however old');
        await functions.deleteFunction('f');
        assert.deepEqual(await c.deleteUnusedBuilds(10_000, 10), ['used'], 'its function deleted');
      }));

    test('a lease is held by one owner until it expires or is released, and renewed by its owner', () =>
      withStores(open, async ({ cluster: c }) => {
        assert.equal(await c.tryLease('leader', 'a', 1000, 5000), true);
        assert.equal(await c.tryLease('leader', 'b', 2000, 5000), false, 'held by a');
        assert.equal(await c.tryLease('leader', 'a', 4000, 5000), true, 'renewed by its owner');
        assert.equal(await c.tryLease('leader', 'b', 8000, 5000), false, 'the renewal moved the end to 9000');
        assert.equal(await c.tryLease('leader', 'b', 9001, 5000), true, 'expired: taken over');
        assert.equal(await c.tryLease('leader', 'a', 9002, 5000), false);
        await c.releaseLease('leader', 'a');
        assert.equal(await c.tryLease('leader', 'a', 9003, 5000), false, 'only its owner releases it');
        await c.releaseLease('leader', 'b');
        assert.equal(await c.tryLease('leader', 'a', 9004, 5000), true, 'released: free at once');
        assert.equal(await c.tryLease('other', 'b', 9004, 5000), true, 'leases are per name');
      }));
  });
}
