/** The commands of async invocations, history, stats and schedules, in `kumo --help` order. */
import type { Command } from '../command.ts';
import { historyCommand } from './history.ts';
import { redriveCommand } from './redrive.ts';
import { resultCommand } from './result.ts';
import { scheduleCommand } from './schedule.ts';
import { schedulesCommand } from './schedules.ts';
import { statsCommand } from './stats.ts';
import { unscheduleCommand } from './unschedule.ts';

/** Registered after the function commands in run.ts. */
export const ASYNC_COMMANDS: readonly Command[] = [
  resultCommand,
  historyCommand,
  redriveCommand,
  statsCommand,
  scheduleCommand,
  schedulesCommand,
  unscheduleCommand,
];
