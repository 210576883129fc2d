/** The ClusterStore contract: change feed, builds and leases. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withStores, type OpenStores } from './support.ts';

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

    test('a build is stored once by hash, read back byte for byte, and deleted', () =>
      withStores(open, async ({ cluster: c }) => {
        const blob = Buffer.from([0, 1, 2, 255, 0, 7]);
        assert.equal(await c.hasBuild('abc'), false);
        assert.equal(await c.getBuild('abc'), undefined);
        await c.putBuild('abc', { sha256: 's1', blob }, 1);
        await c.putBuild('abc', { sha256: 's2', blob: Buffer.from('other') }, 2);
        assert.equal(await c.hasBuild('abc'), true);
        assert.deepEqual(await c.getBuild('abc'), { sha256: 's1', blob });
        await c.deleteBuild('abc');
        assert.equal(await c.hasBuild('abc'), false);
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
