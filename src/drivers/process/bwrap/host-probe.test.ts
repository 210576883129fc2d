/** The host probe, on this host and on a host without bubblewrap. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BubblewrapSandbox } from './bubblewrap-sandbox.ts';
import { canSandbox, probeCapabilities, probeHost, sandboxProblems } from './host-probe.ts';

describe('host probe', () => {
  test('finds a working sandbox here (run scripts/setup-host.sh first)', async () => {
    const probe = await probeHost({ cgroupName: `kumo-probe-test-${process.pid}` });
    assert.deepEqual(sandboxProblems(probe), []);
    assert.equal(canSandbox(probe), true);
    const caps = probeCapabilities(probe);
    assert.ok(caps.length >= 8);
    assert.ok(
      caps.every((c) => c.available && c.fix === undefined),
      JSON.stringify(caps),
    );
  });

  test('without bwrap: says how to install it, and the sandbox refuses to start instances', async () => {
    const probe = await probeHost({
      bwrapPath: '/nonexistent/bwrap',
      cgroupName: `kumo-probe-test-${process.pid}`,
    });
    assert.equal(canSandbox(probe), false);
    const bwrap = probeCapabilities(probe).find((c) => c.feature === 'sandbox: bubblewrap');
    assert.deepEqual(bwrap, {
      feature: 'sandbox: bubblewrap',
      available: false,
      detail: 'bwrap is not installed',
      fix: 'apt-get install -y bubblewrap',
    });
    const dir = await mkdtemp(join(tmpdir(), 'kumo-probe-'));
    try {
      const sandbox = new BubblewrapSandbox({ probe, runDir: dir });
      await assert.rejects(
        sandbox.prepare({
          id: 'x',
          functionName: 'f',
          version: 1,
          socketPath: join(dir, 's', 'x.sock'),
          limits: { memoryMb: 64, network: false },
          startTimeoutMs: 1000,
          onOutput: () => {},
          launch: { command: '/bin/true', args: [], env: {}, cwd: '/', mounts: [] },
        }),
        {
          code: 'instance_failed_to_start',
          message: /bwrap is not installed \(fix: apt-get install -y bubblewrap\)/,
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
