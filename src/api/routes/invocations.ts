/** The async, history, stats and schedule routes of the control API, registered on its router. */
import type { Scheduler } from '../../scheduler/index.ts';
import type { InvocationStore, QueueStore } from '../../store/index.ts';
import type { Router } from '../router.ts';
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

/** Adds the routes to `router`. */
export function registerInvocationRoutes(router: Router, d: InvocationRoutesDeps): Router {
  const history = historyRoutes(d);
  const schedules = scheduleRoutes(d.scheduler);
  return router
    .on('GET', '/history', history.list)
    .on('GET', '/invocations/:id', history.get)
    .on('POST', '/invocations/:id/redrive', redriveRoute(d))
    .on('GET', '/stats', statsRoute(d))
    .on('GET', '/schedules', schedules.listAll)
    .on('GET', '/functions/:name/schedules', schedules.list)
    .on('POST', '/functions/:name/schedules', schedules.add)
    .on('DELETE', '/functions/:name/schedules', schedules.removeAll)
    .on('DELETE', '/functions/:name/schedules/:id', schedules.remove);
}
