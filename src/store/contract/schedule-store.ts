/** The ScheduleStore contract. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ScheduleRecord } from '../../core/index.ts';
import { withStores, type OpenStores } from './support.ts';

function schedule(id: string, fn: string, extra: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id,
    function: fn,
    source: 'api',
    cron: '* * * * *',
    tz: null,
    data: null,
    overlap: 'skip',
    catchup: 'none',
    createdAt: 1,
    lastTickAt: null,
    ...extra,
  };
}

/** Every ScheduleStore passes these. */
export function describeScheduleStoreContract(open: OpenStores): void {
  describe('ScheduleStore contract', () => {
    test('schedules are stored, replaced by id, listed oldest first per function, ticked and deleted', () =>
      withStores(open, async ({ schedules: s }) => {
        await s.putSchedule(schedule('b', 'g', { createdAt: 2 }));
        await s.putSchedule(schedule('a2', 'f', { createdAt: 3, tz: 'Europe/Paris', data: '{"x":1}' }));
        await s.putSchedule(schedule('a1', 'f', { createdAt: 2, overlap: 'queue', catchup: 'one' }));
        assert.deepEqual(
          (await s.listSchedules()).map((x) => x.id),
          ['a1', 'a2', 'b'],
        );
        assert.deepEqual(
          (await s.listSchedules('f')).map((x) => x.id),
          ['a1', 'a2'],
        );
        assert.deepEqual(
          await s.getSchedule('a2'),
          schedule('a2', 'f', { createdAt: 3, tz: 'Europe/Paris', data: '{"x":1}' }),
        );
        await s.putSchedule(schedule('a2', 'f', { createdAt: 3, cron: '0 * * * *' }));
        assert.equal((await s.getSchedule('a2'))?.cron, '0 * * * *');
        await s.markTick('a2', 500);
        assert.equal((await s.getSchedule('a2'))?.lastTickAt, 500);
        assert.equal(await s.deleteSchedule('a2'), true);
        assert.equal(await s.deleteSchedule('a2'), false);
        assert.equal(await s.getSchedule('a2'), undefined);
        assert.equal(await s.deleteFunctionSchedules('f'), 1);
        assert.deepEqual(
          (await s.listSchedules()).map((x) => x.id),
          ['b'],
        );
      }));

    test('manifest schedules are replaced as a set, unchanged ones keeping their last tick, api ones untouched', () =>
      withStores(open, async ({ schedules: s }) => {
        await s.putSchedule(schedule('api', 'f'));
        const m = (id: string, cron: string, createdAt: number) =>
          schedule(id, 'f', { source: 'manifest', cron, createdAt });
        await s.replaceManifestSchedules('f', [m('m1', '* * * * *', 10), m('m2', '0 * * * *', 10)]);
        await s.markTick('m1', 100);
        await s.markTick('m2', 100);
        await s.replaceManifestSchedules('f', [
          m('m1', '* * * * *', 20),
          m('m2', '5 * * * *', 20),
          m('m3', '* * * * *', 20),
        ]);
        const after = new Map((await s.listSchedules('f')).map((x) => [x.id, x]));
        assert.deepEqual([...after.keys()].sort(), ['api', 'm1', 'm2', 'm3']);
        assert.equal(after.get('m1')?.lastTickAt, 100, 'unchanged: keeps its tick');
        assert.equal(after.get('m1')?.createdAt, 10);
        assert.equal(after.get('m2')?.lastTickAt, null, 'changed: starts again');
        await s.replaceManifestSchedules('f', []);
        assert.deepEqual(
          (await s.listSchedules('f')).map((x) => x.id),
          ['api'],
        );
      }));
  });
}
