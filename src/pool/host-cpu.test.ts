import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { HostCpu, parseProcStat } from './host-cpu.ts';

test('parseProcStat reads idle (idle + iowait) and total ticks of the aggregate line', () => {
  const text = 'cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\n';
  assert.deepEqual(parseProcStat(text), { idle: 820, total: 990 });
  assert.equal(parseProcStat('intr 1 2 3\n'), undefined);
  assert.equal(parseProcStat('cpu  a b c\n'), undefined);
});

test('spareCores is the idle share since the previous reading, in cores', async () => {
  const lines = ['cpu  100 0 100 800 0 0 0 0\n', 'cpu  150 0 150 900 0 0 0 0\n'];
  const host = new HostCpu(0, async () => lines.shift() ?? '');
  assert.equal(await host.spareCores(1000), undefined, 'one reading is not a window yet');
  // 100 idle ticks of 200: half the CPUs were idle.
  assert.equal(await host.spareCores(2000), 0.5 * os.availableParallelism());
});

test("the real host's /proc/stat gives a figure between 0 and the number of cores", async () => {
  const host = new HostCpu(0);
  await host.spareCores(1);
  await new Promise((r) => setTimeout(r, 120));
  const spare = await host.spareCores(2);
  assert.ok(spare !== undefined && spare >= 0 && spare <= os.availableParallelism() + 0.01, String(spare));
});
