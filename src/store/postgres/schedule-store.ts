/** ScheduleStore on PostgreSQL. */
import type { ScheduleRecord } from '../../core/index.ts';
import type { ScheduleStore } from '../schedules.ts';
import { toSchedule, type Row } from '../rows.ts';
import type { PgQuery, PgSql } from './database.ts';
import { pgText } from './values.ts';

/** PostgreSQL cron schedules. */
export class PgScheduleStore implements ScheduleStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async listSchedules(fn?: string): Promise<ScheduleRecord[]> {
    return scheduleRows(this.sql, fn);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM schedules WHERE id = ${id}`;
    return row ? toSchedule(row) : undefined;
  }

  async putSchedule(s: ScheduleRecord): Promise<void> {
    await writeSchedule(this.sql, s);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return (await this.sql`DELETE FROM schedules WHERE id = ${id}`).count === 1;
  }

  async replaceManifestSchedules(fn: string, schedules: ScheduleRecord[]): Promise<void> {
    await this.sql.begin(async (tx) => {
      // The function's manifest schedules are locked, so two deploys at once replace them one after the other.
      const old = new Map(
        (await tx<Row[]>`SELECT * FROM schedules WHERE function = ${fn} AND source = 'manifest' FOR UPDATE`)
          .map(toSchedule)
          .map((s) => [s.id, s]),
      );
      await tx`DELETE FROM schedules WHERE function = ${fn} AND source = 'manifest'`;
      for (const s of schedules) {
        const before = old.get(s.id);
        // An unchanged schedule keeps its last tick, so a redeploy does not look like downtime.
        const same = before && before.cron === s.cron && before.tz === s.tz;
        await writeSchedule(
          tx,
          same ? { ...s, createdAt: before.createdAt, lastTickAt: before.lastTickAt } : s,
        );
      }
    });
  }

  async deleteFunctionSchedules(fn: string): Promise<number> {
    return (await this.sql`DELETE FROM schedules WHERE function = ${fn}`).count;
  }

  async markTick(id: string, at: number): Promise<void> {
    await this.sql`UPDATE schedules SET last_tick_at = ${at} WHERE id = ${id}`;
  }
}

async function scheduleRows(sql: PgQuery, fn: string | undefined): Promise<ScheduleRecord[]> {
  const rows =
    fn === undefined
      ? await sql<Row[]>`SELECT * FROM schedules ORDER BY function, created_at, id`
      : await sql<Row[]>`SELECT * FROM schedules WHERE function = ${fn} ORDER BY created_at, id`;
  return rows.map(toSchedule);
}

async function writeSchedule(sql: PgQuery, s: ScheduleRecord): Promise<void> {
  await sql`INSERT INTO schedules (id, function, source, cron, tz, data, overlap, catchup, created_at, last_tick_at)
    VALUES (${s.id}, ${s.function}, ${s.source}, ${s.cron}, ${s.tz}, ${pgText(s.data)}, ${s.overlap}, ${s.catchup},
      ${s.createdAt}, ${s.lastTickAt})
    ON CONFLICT (id) DO UPDATE SET function = excluded.function, source = excluded.source, cron = excluded.cron,
      tz = excluded.tz, data = excluded.data, overlap = excluded.overlap, catchup = excluded.catchup,
      created_at = excluded.created_at, last_tick_at = excluded.last_tick_at`;
}
