import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { metricsText } from './async-helpers.ts';
import {
  api,
  apiJson,
  deploy,
  eventually,
  kumo,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

interface Run {
  id: string;
  status: string;
  trigger: string;
  startedAt: number | null;
  finishedAt: number | null;
}

/** The cron runs of `fn` that have started, oldest first. */
async function cronRuns(server: TestServer, fn: string): Promise<Run[]> {
  const { invocations } = await apiJson<{ invocations: Run[] }>(
    server,
    `/history?function=${fn}&trigger=cron&limit=100`,
  );
  return invocations.filter((r) => r.startedAt !== null).reverse();
}

/** Whether any two runs were running at the same time (a running one has no end yet). */
function overlaps(runs: Run[]): boolean {
  const spans = runs.map(
    (r) => [r.startedAt ?? 0, r.status === 'running' ? Infinity : (r.finishedAt ?? Infinity)] as const,
  );
  return spans.some(([s1, e1], i) => spans.some(([s2], j) => j > i && s2 < e1 && s2 >= s1));
}

const SLOW = `export default { async fetch() { await new Promise((r) => setTimeout(r, 2500)); return new Response('tick'); } };\n`;

describe('cron schedules', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.dispose());

  test('a 1-second schedule with a 2.5-second function never overlaps under skip, and does under allow', async () => {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: skipper\nschedule:\n  cron: "* * * * * *"\n  overlap: skip\n',
        'index.js': SLOW,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml':
          'name: allower\ninstances:\n  max: 6\nasync:\n  concurrency: 6\nschedule:\n  - cron: "* * * * * *"\n    overlap: allow\n',
        'index.js': SLOW,
      }),
    );
    const skipped = await eventually(
      async () => {
        const runs = await cronRuns(server, 'skipper');
        return runs.filter((r) => r.status === 'succeeded').length >= 2 ? runs : undefined;
      },
      15_000,
      'two finished runs under skip',
    );
    assert.equal(
      overlaps(skipped),
      false,
      `skip: runs never overlap ${JSON.stringify(skipped.map((r) => [r.startedAt, r.finishedAt]))}`,
    );
    const allowed = await eventually(
      async () => {
        const runs = await cronRuns(server, 'allower');
        return runs.length >= 3 && overlaps(runs) ? runs : undefined;
      },
      10_000,
      'overlapping runs under allow',
    );
    assert.ok(overlaps(allowed), 'allow: a run starts while the previous one is still going');
    const metrics = await metricsText(server);
    assert.match(metrics, /kumo_schedule_ticks_total\{function="skipper",result="skipped"\} [1-9]/);
    // Stop the ticks so the rest of the suite runs on a quiet server.
    await mustDeploy(server, await writeFunction({ 'kumo.yaml': 'name: skipper\n', 'index.js': SLOW }));
    await mustDeploy(server, await writeFunction({ 'kumo.yaml': 'name: allower\n', 'index.js': SLOW }));
    const left = await apiJson<{ schedules: unknown[] }>(server, '/schedules');
    assert.deepEqual(left.schedules, [], 'a deploy without schedule: removes the kumo.yaml schedules');
  });

  test('an invalid cron expression or time zone is refused at deploy, naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['schedule: "61 * * * *"\n', /"schedule\.cron".*61/],
      ['schedule:\n  cron: "0 * * * *"\n  tz: Mars/Olympus_Mons\n', /"schedule\.tz".*Mars\/Olympus_Mons/],
      ['schedule:\n  - "0 * * * *"\n  - cron: "every day"\n', /"schedule\.1\.cron"/],
      ['schedule:\n  cron: "0 * * * *"\n  overlap: sometimes\n', /"schedule\.overlap"/],
    ];
    for (const [yaml, message] of cases) {
      const dir = await writeFunction({
        'kumo.yaml': `name: badcron\n${yaml}`,
        'index.js': 'export default () => new Response("x");\n',
      });
      const { status, body } = await deploy(server, dir);
      assert.equal(status, 400, yaml);
      const error = (body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_manifest', yaml);
      assert.match(error.message, message);
    }
  });

  test('kumo schedule, schedules and unschedule manage schedules with time zones and show the next runs', async () => {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: reporter\nschedule:\n  cron: "0 9 * * 1"\n  tz: America/New_York\n',
        'index.js': 'export default () => new Response("report");\n',
      }),
    );
    const added = await kumo(server.url, [
      'schedule',
      'reporter',
      '--cron',
      '0 0 1 1 *',
      '--tz',
      'Europe/Paris',
      '--data',
      '{"kind":"yearly"}',
      '--overlap',
      'queue',
      '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const schedule = JSON.parse(added.stdout) as {
      id: string;
      next: number[];
      overlap: string;
      data: unknown;
    };
    assert.equal(schedule.overlap, 'queue');
    assert.deepEqual(schedule.data, { kind: 'yearly' });
    const next = new Date(schedule.next[0] ?? 0);
    assert.equal(next.getUTCMonth(), 11, 'midnight on 1 January in Paris is 31 December in UTC');
    assert.equal(next.getUTCHours(), 23);

    const table = await kumo(server.url, ['schedules']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /reporter-m0\s+reporter\s+0 9 \* \* 1\s+America\/New_York\s+skip\s+none\s+manifest\s+\d{4}-/,
    );
    assert.ok(table.stdout.includes(schedule.id), table.stdout);

    const bad = await kumo(server.url, [
      'schedule',
      'reporter',
      '--cron',
      '0 * * * *',
      '--tz',
      'Nowhere/Land',
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"tz".*Nowhere\/Land.*\(invalid_schedule\)/);
    const fromManifest = await kumo(server.url, ['unschedule', 'reporter', 'reporter-m0']);
    assert.equal(fromManifest.code, 1);
    assert.match(fromManifest.stderr, /kumo\.yaml.*\(conflict\)/);

    const removed = await kumo(server.url, ['unschedule', 'reporter', schedule.id]);
    assert.equal(removed.code, 0, removed.stderr);
    const list = await apiJson<{ schedules: { id: string }[] }>(server, '/functions/reporter/schedules');
    assert.deepEqual(
      list.schedules.map((s) => s.id),
      ['reporter-m0'],
    );
    assert.equal(
      (await api(server, '/functions/nope/schedules', { method: 'POST', body: '{"cron":"* * * * *"}' }))
        .status,
      404,
    );
  });
});

test('schedules survive a restart; missed ticks run once under catchup: one and are skipped under none', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-cron-restart-'));
  try {
    const first = await startTestServer([], dataDir);
    await mustDeploy(
      first,
      await writeFunction({
        'kumo.yaml': 'name: catcher\nschedule:\n  cron: "*/2 * * * * *"\n  catchup: one\n',
        'index.js': 'export default () => new Response("caught");\n',
      }),
    );
    await mustDeploy(
      first,
      await writeFunction({
        'kumo.yaml': 'name: dropper\nschedule:\n  cron: "*/2 * * * * *"\n  catchup: none\n',
        'index.js': 'export default () => new Response("dropped");\n',
      }),
    );
    await eventually(async () => (await cronRuns(first, 'catcher')).length >= 1, 10_000, 'a first tick');
    await first.close();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 4500));

    const second = await startTestServer([], dataDir);
    try {
      const schedules = await apiJson<{ schedules: { id: string }[] }>(second, '/schedules');
      assert.deepEqual(schedules.schedules.map((s) => s.id).sort(), ['catcher-m0', 'dropper-m0']);
      assert.ok(
        second.logLines.some((l) => l.includes('catchup: one') && l.includes('catcher-m0')),
        'catcher ran its missed ticks once',
      );
      assert.ok(
        second.logLines.some((l) => l.includes('catchup: none') && l.includes('dropper-m0')),
        'dropper skipped its missed ticks',
      );
      const runsAfter = async (fn: string) =>
        (await cronRuns(second, fn)).filter((r) => (r.startedAt ?? 0) > downAt);
      await eventually(
        async () => (await runsAfter('catcher')).length >= 2 && (await runsAfter('dropper')).length >= 1,
        10_000,
        'ticks after the restart',
      );
    } finally {
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
