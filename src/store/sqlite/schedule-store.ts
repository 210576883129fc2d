/** ScheduleStore on the server's SQLite database. */
import type { ScheduleRecord } from '../../core/index.ts';
import type { ScheduleStore } from '../schedules.ts';
import { toSchedule, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite cron schedules. */
export class SqliteScheduleStore extends SqliteStatements implements ScheduleStore {
  async listSchedules(fn?: string): Promise<ScheduleRecord[]> {
    return this.scheduleRows(fn);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    const row = this.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined;
    return row ? toSchedule(row) : undefined;
  }

  async putSchedule(s: ScheduleRecord): Promise<void> {
    this.writeSchedule(s);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return Number(this.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes) === 1;
  }

  async replaceManifestSchedules(fn: string, schedules: ScheduleRecord[]): Promise<void> {
    this.transaction(() => {
      const old = new Map(
        this.scheduleRows(fn)
          .filter((s) => s.source === 'manifest')
          .map((s) => [s.id, s]),
      );
      this.prepare("DELETE FROM schedules WHERE function = ? AND source = 'manifest'").run(fn);
      for (const s of schedules) {
        const before = old.get(s.id);
        // An unchanged schedule keeps its last tick, so a redeploy does not look like downtime.
        const same = before && before.cron === s.cron && before.tz === s.tz;
        this.writeSchedule(same ? { ...s, createdAt: before.createdAt, lastTickAt: before.lastTickAt } : s);
      }
    });
  }

  async deleteFunctionSchedules(fn: string): Promise<number> {
    return Number(this.prepare('DELETE FROM schedules WHERE function = ?').run(fn).changes);
  }

  async markTick(id: string, at: number): Promise<void> {
    this.prepare('UPDATE schedules SET last_tick_at = ? WHERE id = ?').run(at, id);
  }

  private scheduleRows(fn: string | undefined): ScheduleRecord[] {
    const rows = (
      fn === undefined
        ? this.prepare('SELECT * FROM schedules ORDER BY function, created_at, id').all()
        : this.prepare('SELECT * FROM schedules WHERE function = ? ORDER BY created_at, id').all(fn)
    ) as Row[];
    return rows.map(toSchedule);
  }

  private writeSchedule(s: ScheduleRecord): void {
    this.prepare(
      `INSERT OR REPLACE INTO schedules (id, function, source, cron, tz, data, overlap, catchup, created_at, last_tick_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(s.id, s.function, s.source, s.cron, s.tz, s.data, s.overlap, s.catchup, s.createdAt, s.lastTickAt);
  }
}
