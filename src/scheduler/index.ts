/** scheduler: cron triggers with overlap and missed-run policies, feeding the durable queue. */
export { Scheduler, type ScheduleView, type SchedulerOptions, type SchedulerStart } from './scheduler.ts';
