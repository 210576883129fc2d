/** Schedules: GET /schedules, GET|POST|DELETE /functions/:name/schedules, DELETE /functions/:name/schedules/:id. */
import { scheduleBody, type ScheduleSpec } from '../../core/index.ts';
import { jsonBody, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { Scheduler, ScheduleView } from '../../scheduler/index.ts';

/** Largest schedule request body. */
const BODY_LIMIT = 64 * 1024;

/** GET /schedules, GET|POST|DELETE /functions/:name/schedules, DELETE /functions/:name/schedules/:id. */
export function scheduleRoutes(scheduler: Scheduler): Route[] {
  const h = scheduleHandlers(scheduler);
  const tag = 'schedules';
  return [
    { method: 'GET', path: '/schedules', scope: 'read', tag, summary: 'Every schedule', handler: h.listAll },
    {
      method: 'GET',
      path: '/functions/:name/schedules',
      scope: 'read',
      tag,
      summary: "A function's schedules",
      handler: h.list,
    },
    {
      method: 'POST',
      path: '/functions/:name/schedules',
      scope: 'deploy',
      tag,
      summary: 'Add a schedule to a function',
      ...jsonBody(
        {
          schema: scheduleBody,
          limit: BODY_LIMIT,
          what: 'schedule',
          invalid: 'invalid_schedule',
          example: '{"cron": "0 * * * *"}',
        },
        h.add,
      ),
    },
    {
      method: 'DELETE',
      path: '/functions/:name/schedules',
      scope: 'deploy',
      tag,
      summary: "Remove every schedule of a function added through the API (kumo.yaml's stay)",
      handler: h.removeAll,
    },
    {
      method: 'DELETE',
      path: '/functions/:name/schedules/:id',
      scope: 'deploy',
      tag,
      summary: 'Remove one schedule added through the API',
      handler: h.remove,
    },
  ];
}

function scheduleHandlers(scheduler: Scheduler) {
  return {
    listAll: async ({ res }: RouteContext) =>
      sendJson(res, 200, { schedules: (await scheduler.list()).map(view) }),
    list: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { schedules: (await scheduler.list(params.name ?? '')).map(view) }),
    add: async ({ res, params }: RouteContext, spec: ScheduleSpec) => {
      sendJson(res, 201, view(await scheduler.add(params.name ?? '', spec)));
    },
    removeAll: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { removed: await scheduler.remove(params.name ?? '') }),
    remove: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { removed: await scheduler.remove(params.name ?? '', params.id ?? '') }),
  };
}

function view(s: ScheduleView) {
  return {
    id: s.id,
    function: s.function,
    source: s.source,
    cron: s.cron,
    tz: s.tz,
    data: s.data === null ? null : (JSON.parse(s.data) as unknown),
    overlap: s.overlap,
    catchup: s.catchup,
    createdAt: s.createdAt,
    lastTickAt: s.lastTickAt,
    next: s.next,
  };
}
