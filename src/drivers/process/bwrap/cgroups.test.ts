/** Cgroup layout detection for every host shape, and real instance groups on this host. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { Cgroups, detectCgroupLayout, layoutFrom, parseMountinfo } from './cgroups.ts';

const HYBRID_MOUNTS = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw',
  '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
  '34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '35 30 0:31 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids',
].join('\n');
const HYBRID_SELF = [
  '5:pids:/user.slice',
  '4:memory:/user.slice/app',
  '3:cpu,cpuacct:/',
  '0::/user.slice',
].join('\n');

const V2_MOUNTS = '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate';

describe('cgroup layout', () => {
  test('hybrid: v1 controllers nested under kumo’s own groups, the empty cgroup2 unused', () => {
    const layout = layoutFrom(HYBRID_MOUNTS, HYBRID_SELF, [''], { name: 'k' });
    assert.deepEqual(layout.unavailable, {});
    assert.deepEqual(
      layout.hierarchies.map((h) => [h.version, h.parent, h.controllers]),
      [
        [1, '/sys/fs/cgroup/memory/user.slice/app/k', ['memory']],
        [1, '/sys/fs/cgroup/pids/user.slice/k', ['pids']],
        [1, '/sys/fs/cgroup/cpu,cpuacct/k', ['cpu']],
      ],
    );
  });

  test('pure v2: one hierarchy beside kumo, or a delegated parent', () => {
    const layout = layoutFrom(V2_MOUNTS, '0::/system.slice/kumo.service', [
      'cpuset',
      'cpu',
      'io',
      'memory',
      'pids',
    ]);
    assert.deepEqual(layout.hierarchies, [
      {
        version: 2,
        mountPoint: '/sys/fs/cgroup',
        parent: '/sys/fs/cgroup/kumo',
        controllers: ['memory', 'pids', 'cpu'],
      },
    ]);
    const delegated = layoutFrom(V2_MOUNTS, '0::/x', ['memory', 'pids'], {
      v2Parent: '/sys/fs/cgroup/d/kumo',
    });
    assert.equal(delegated.hierarchies[0]?.parent, '/sys/fs/cgroup/d/kumo');
    assert.match(delegated.unavailable.cpu ?? '', /not mounted/);
  });

  test('a v1 container whose mount root is its own group', () => {
    const mounts = '40 30 0:30 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory';
    const layout = layoutFrom(mounts, '4:memory:/docker/abc', []);
    assert.equal(layout.hierarchies[0]?.parent, '/sys/fs/cgroup/memory/kumo');
    const outside = layoutFrom(mounts, '4:memory:/elsewhere', []);
    assert.match(outside.unavailable.memory ?? '', /cannot place/);
  });

  test('mountinfo paths with escaped spaces', () => {
    const [m] = parseMountinfo('1 2 0:1 / /mnt/with\\040space rw - tmpfs tmpfs rw');
    assert.equal(m?.mountPoint, '/mnt/with space');
  });
});

describe('instance cgroups on this host', () => {
  test('are created with the limits and removed with their parents', async () => {
    const layout = await detectCgroupLayout({ name: `kumo-cg-test-${process.pid}` });
    const cgroups = new Cgroups(layout);
    assert.deepEqual(cgroups.missing(), [], JSON.stringify(layout.unavailable));
    const group = await cgroups.create('one', { memoryBytes: 64 << 20, maxProcesses: 10, cpu: 0.25 });
    try {
      assert.equal((await group.read('pids', 'pids.max')).trim(), '10');
      const memory = layout.hierarchies.find((h) => h.controllers.includes('memory'));
      const memFile = memory?.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      assert.equal((await group.read('memory', memFile)).trim(), String(64 << 20));
      // a quarter CPU: 25 ms per 100 ms period, with a burst of one more period's quota
      const cpu = layout.hierarchies.find((h) => h.controllers.includes('cpu'));
      if (cpu?.version === 2) {
        assert.equal((await group.read('cpu', 'cpu.max')).trim(), '25000 100000');
        assert.equal((await group.read('cpu', 'cpu.max.burst')).trim(), '25000');
      } else {
        assert.equal((await group.read('cpu', 'cpu.cfs_quota_us')).trim(), '25000');
        assert.equal((await group.read('cpu', 'cpu.cfs_burst_us')).trim(), '25000');
      }
      assert.equal(await group.oomKilled(), false);
      await assert.rejects(cgroups.create('../escape', { memoryBytes: 1 << 20, maxProcesses: 1, cpu: 1 }));
    } finally {
      await group.remove();
      await cgroups.removeParents();
    }
    for (const h of layout.hierarchies) {
      await assert.rejects(stat(h.parent), { code: 'ENOENT' });
    }
  });

  test('a parent removed by another server as it stopped is made again', async () => {
    const layout = await detectCgroupLayout({ name: `kumo-cg-shared-${process.pid}` });
    const mine = new Cgroups(layout);
    const other = new Cgroups(layout);
    const first = await mine.create('a', { memoryBytes: 64 << 20, maxProcesses: 10, cpu: 1 });
    await first.remove();
    await other.removeParents(); // the other server stops while the parent happens to be empty
    for (const h of layout.hierarchies) await assert.rejects(stat(h.parent), { code: 'ENOENT' });
    const second = await mine.create('b', { memoryBytes: 64 << 20, maxProcesses: 10, cpu: 1 });
    try {
      assert.equal((await second.read('pids', 'pids.max')).trim(), '10');
    } finally {
      await second.remove();
      await mine.removeParents();
    }
  });

  test('sweep removes the groups of gone servers and empty unnamed ones, not a running server’s', async () => {
    const layout = await detectCgroupLayout({ name: `kumo-cg-sweep-${process.pid}` });
    const cgroups = new Cgroups(layout);
    const mine = await cgroups.create('live', { memoryBytes: 64 << 20, maxProcesses: 10, cpu: 1 });
    const gone = Number(
      spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim(),
    );
    try {
      for (const h of layout.hierarchies) {
        await mkdir(`${h.parent}/k${gone}.fn-v1-0000`);
        await mkdir(`${h.parent}/fn-v1-legacy`);
        await mkdir(`${h.parent}/k1.fn-v1-pid1`); // pid 1 is alive: not ours to remove
      }
      assert.equal(await cgroups.sweep(), layout.hierarchies.length * 2);
      for (const h of layout.hierarchies) {
        const left = (await readdir(h.parent, { withFileTypes: true }))
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
          .sort();
        assert.deepEqual(left, [`k${process.pid}.live`, 'k1.fn-v1-pid1'].sort());
        await rmdir(`${h.parent}/k1.fn-v1-pid1`);
      }
      assert.ok(mine.procsFiles.every((f) => f.includes(`/k${process.pid}.live/`)));
    } finally {
      for (const h of layout.hierarchies)
        for (const name of [`k${gone}.fn-v1-0000`, 'fn-v1-legacy', 'k1.fn-v1-pid1'])
          await rmdir(`${h.parent}/${name}`).catch(() => {});
      await mine.remove();
      await cgroups.removeParents();
    }
    assert.ok((await readFile('/proc/self/cgroup', 'utf8')).length > 0);
  });
});
