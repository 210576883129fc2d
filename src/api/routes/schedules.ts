/** Schedules: GET /schedules, GET|POST|DELETE /functions/:name/schedules, DELETE /functions/:name/schedules/:id. */
import { KumoError, parseScheduleEntry, type ScheduleSpec } from '../../core/index.ts';
import { readBody, sendJson } from '../../http/index.ts';
import type { Scheduler, ScheduleView } from '../../scheduler/index.ts';
import type { RouteContext } from '../router.ts';

/** Largest schedule request body. */
const BODY_LIMIT = 64 * 1024;

/** The schedule routes. */
export function scheduleRoutes(scheduler: Scheduler) {
  return {
    listAll: async ({ res }: RouteContext) =>
      sendJson(res, 200, { schedules: (await scheduler.list()).map(view) }),
    list: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { schedules: (await scheduler.list(params.name ?? '')).map(view) }),
    add: async ({ req, res, params }: RouteContext) => {
      const spec = parseSchedule(await readBody(req, BODY_LIMIT, 'schedule'));
      sendJson(res, 201, view(await scheduler.add(params.name ?? '', spec)));
    },
    removeAll: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { removed: await scheduler.remove(params.name ?? '') }),
    remove: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { removed: await scheduler.remove(params.name ?? '', params.id ?? '') }),
  };
}

/** A schedule body `{cron, tz?, data?, overlap?, catchup?}`; invalid_schedule names the field. */
function parseSchedule(raw: Buffer): ScheduleSpec {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new KumoError('bad_request', 'the schedule must be a JSON object like {"cron": "0 * * * *"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KumoError('invalid_schedule', 'the schedule must be a JSON object like {"cron": "0 * * * *"}');
  }
  const problems: string[] = [];
  const spec = parseScheduleEntry(value, [], (path, message) =>
    problems.push(`"${path.length ? path.join('.') : 'schedule'}" ${message}`),
  );
  if (!spec)
    throw new KumoError('invalid_schedule', `schedule: ${problems.join('; ')}`, { issues: problems });
  return spec;
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
