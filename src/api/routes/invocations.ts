/** The async, history, stats and schedule routes of the control API. */
import type { Scheduler } from '../../scheduler/index.ts';
import type { Route } from '../../http/index.ts';
import type { InvocationStore, QueueStore } from '../../store/index.ts';
import { historyRoutes } from './history.ts';
import { redriveRoute } from './redrive.ts';
import { scheduleRoutes } from './schedules.ts';
import { statsRoute } from './stats.ts';

/** What these routes need. */
export interface InvocationRoutesDeps {
  invocations: InvocationStore;
  queue: QueueStore;
  scheduler: Scheduler;
  flushHistory: () => Promise<void>;
  wakeQueue: () => void;
  retries: (fn: string) => number;
  /** Bodies are shown up to this many bytes. */
  bodyLimit: number;
  now: () => number;
}

/** The history, redrive, stats and schedule routes. */
export function invocationRoutes(d: InvocationRoutesDeps): Route[] {
  return [...historyRoutes(d), redriveRoute(d), statsRoute(d), ...scheduleRoutes(d.scheduler)];
}
