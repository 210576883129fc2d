import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KumoError } from '../../core/index.ts';
import { defaultNodeId, parseClusterConfig } from './cluster.ts';

test('cluster flags: defaults, the flags over the environment, and clear refusals of bad values', () => {
  const d = parseClusterConfig({}, {});
  assert.equal(d.nodeId, defaultNodeId());
  assert.equal(d.visibilityTimeoutMs, 30_000);
  assert.equal(d.leaderLeaseMs, 5000);
  assert.equal(d.reusePort, false);
  const c = parseClusterConfig(
    { 'node-id': 'web-1', 'visibility-timeout': '10s', 'leader-lease': '2s', 'reuse-port': true },
    { KUMO_NODE_ID: 'ignored', KUMO_VISIBILITY_TIMEOUT: '99s' },
  );
  assert.deepEqual(c, { nodeId: 'web-1', visibilityTimeoutMs: 10_000, leaderLeaseMs: 2000, reusePort: true });
  assert.equal(parseClusterConfig({}, { KUMO_NODE_ID: 'env-node' }).nodeId, 'env-node');
  for (const values of [
    { 'node-id': '' },
    { 'node-id': '../etc' },
    { 'node-id': 'x'.repeat(65) },
    { 'visibility-timeout': 'soon' },
    { 'visibility-timeout': '0.5s' },
    { 'leader-lease': '2h' },
  ]) {
    assert.throws(
      () => parseClusterConfig(values, {}),
      (err: unknown) =>
        err instanceof KumoError &&
        err.code === 'bad_request' &&
        /--(node-id|visibility-timeout|leader-lease)/.test(err.message),
      JSON.stringify(values),
    );
  }
});
