import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronProblem, nextRunTimes } from './schedule.ts';

test('accepts 5 fields, 6 with seconds and nicknames; names the problem otherwise', () => {
  for (const ok of ['0 * * * *', '*/5 * * * * *', '@hourly', '0 9 * * MON-FRI'])
    assert.equal(cronProblem(ok), undefined, ok);
  assert.match(cronProblem('61 * * * *') ?? '', /not a cron expression/);
  assert.match(cronProblem('* * * * * * *') ?? '', /not a cron expression/);
  assert.match(cronProblem('0 0 31 2 *') ?? '', /never fires/);
  assert.match(cronProblem('0 * * * *', 'Mars/Base') ?? '', /time zone/);
});

test('next runs follow the time zone, daylight saving time included', () => {
  const from = Date.UTC(2026, 2, 28, 12); // the day before Paris moves to summer time
  const [a, b] = nextRunTimes('0 9 * * *', 'Europe/Paris', from, 2);
  assert.equal(new Date(a ?? 0).toISOString(), '2026-03-29T07:00:00.000Z', '09:00 CEST');
  assert.equal(new Date(b ?? 0).toISOString(), '2026-03-30T07:00:00.000Z');
  assert.deepEqual(nextRunTimes('*/2 * * * * *', undefined, Date.UTC(2026, 0, 1, 0, 0, 1), 2), [
    Date.UTC(2026, 0, 1, 0, 0, 2),
    Date.UTC(2026, 0, 1, 0, 0, 4),
  ]);
});
