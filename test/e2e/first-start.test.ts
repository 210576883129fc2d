import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, spawnKumo } from './harness.ts';

test(
  'kumo up --deploy-examples prints each deploy whole: no server log line inside a progress line',
  { timeout: 240_000 },
  async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'kumo-first-'));
    const kumo = await spawnKumo(['--data', data, '--deploy-examples']);
    try {
      await eventually(
        () => /kumo is up at \S+ with (\d+) example functions/.exec(kumo.output()),
        200_000,
        'the examples',
      );
      const lines = kumo.output().split('\n');
      const steps = lines.filter((l) => /^\[\d\/3\]/.test(l));
      assert.ok(steps.length >= 3 * 10, `expected the progress of every example, got:\n${steps.join('\n')}`);
      for (const line of steps)
        assert.match(line, /^\[\d\/3\] [^\n]*\.\.\. done$/, `a progress line was interrupted: ${line}`);
    } finally {
      kumo.child.kill('SIGTERM');
      await new Promise((resolve) => kumo.child.once('exit', resolve));
      await rm(data, { recursive: true, force: true });
    }
  },
);
