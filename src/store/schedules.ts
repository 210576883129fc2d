/** Cron schedules: those of a function's kumo.yaml (`manifest`) and those added through the API (`api`). */
import type { ScheduleRecord } from '../core/index.ts';

/** Persistence of cron schedules. */
export interface ScheduleStore {
  /** Every schedule (of `fn` when given), oldest first. */
  listSchedules(fn?: string): Promise<ScheduleRecord[]>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  /** Stores a schedule, replacing one of the same id. */
  putSchedule(schedule: ScheduleRecord): Promise<void>;
  deleteSchedule(id: string): Promise<boolean>;
  /** Replaces the function's `manifest` schedules (keeping last ticks of unchanged ones), atomically. */
  replaceManifestSchedules(fn: string, schedules: ScheduleRecord[]): Promise<void>;
  /** Removes every schedule of a function (it was deleted). */
  deleteFunctionSchedules(fn: string): Promise<number>;
  markTick(id: string, at: number): Promise<void>;
}
