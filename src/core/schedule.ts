/**
 * Cron schedules: the manifest's `schedule:` shapes and the cron arithmetic (croner) that both the
 * deploy-time check and the scheduler use, so an expression accepted at deploy is one that runs.
 */
import { Cron } from 'croner';

/** What happens to a tick while the previous run of the same schedule is still queued or running. */
export const OVERLAP_POLICIES = ['skip', 'allow', 'queue'] as const;
/** What happens to ticks missed while kumo was down. */
export const CATCHUP_POLICIES = ['none', 'one'] as const;

/** One overlap policy. */
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
/** One catch-up policy. */
export type CatchupPolicy = (typeof CATCHUP_POLICIES)[number];

/** A schedule as kumo runs it (manifest entries and `kumo schedule` both resolve to this). */
export interface ScheduleSpec {
  /** 5 fields (minute precision) or 6 (with seconds first), or a nickname like "@hourly". */
  cron: string;
  /** IANA time zone the expression is read in; UTC when absent. */
  tz?: string | undefined;
  /** JSON sent as the request body of each run. */
  data?: unknown;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
}

/** Why `cron` (in `tz`) cannot run, or undefined when it can. */
export function cronProblem(cron: string, tz?: string): string | undefined {
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      return `time zone ${JSON.stringify(tz)} is not an IANA time zone like "Europe/Paris" or "UTC"`;
    }
  }
  let job: Cron;
  try {
    job = makeCron(cron, tz);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, '') : String(err);
    return `${JSON.stringify(cron)} is not a cron expression (5 fields, or 6 with seconds first): ${reason}`;
  }
  if (job.nextRun() === null) return `${JSON.stringify(cron)} never fires`;
  return undefined;
}

/** The next `count` run times of `cron` strictly after `from` (epoch ms). */
export function nextRunTimes(cron: string, tz: string | undefined, from: number, count: number): number[] {
  return makeCron(cron, tz)
    .nextRuns(count, new Date(from))
    .map((d) => d.getTime());
}

/** The next run time after `from`, or undefined when the expression never fires again. */
export function nextRunTime(cron: string, tz: string | undefined, from: number): number | undefined {
  return nextRunTimes(cron, tz, from, 1)[0];
}

function makeCron(cron: string, tz: string | undefined): Cron {
  // Paused: croner only computes here; the scheduler owns the timers.
  return new Cron(cron, { paused: true, mode: '5-or-6-parts', ...(tz ? { timezone: tz } : {}) });
}
