/**
 * SAM's Schedule and ScheduleV2 events as kumo schedules. EventBridge expressions are translated
 * to the five-field cron kumo runs:
 *   rate(N minutes|hours|days) → `*\/N * * * *`, `0 *\/N * * *`, `0 0 * * *` — only where the
 *     cron fires at exactly that rate (N divides an hour or a day; 1 day), else an error;
 *   cron(min hour day-of-month month day-of-week year) → the first five fields, `?` as `*`,
 *     numeric days of the week shifted from EventBridge's 1-7 (SUN-SAT) to cron's 0-6; the year
 *     must be `*`;
 *   at(…) one-off schedules are refused.
 * `Input` becomes the schedule's data (the body of each tick); `Enabled: false` / `State:
 * DISABLED` leaves the schedule out.
 */
import type { Intrinsics } from './sam.ts';

type Obj = Record<string, unknown>;

/** A kumo schedule entry, and the event properties it ignored. */
export interface SamScheduleResult {
  entry: Obj;
  ignored: string[];
}

/** The kumo schedule of one Schedule/ScheduleV2 event; undefined when the event is disabled. */
export function samSchedule(
  type: 'Schedule' | 'ScheduleV2',
  p: Obj,
  ctx: Intrinsics,
  at: string,
): SamScheduleResult | undefined {
  const exprKey = type === 'Schedule' ? 'Schedule' : 'ScheduleExpression';
  const used = new Set([
    exprKey,
    'Input',
    'Enabled',
    'State',
    'ScheduleExpressionTimezone',
    'Name',
    'Description',
  ]);
  if (p.Enabled !== undefined && ctx.resolve(p.Enabled, `${at}.Properties.Enabled`) === false)
    return undefined;
  if (p.State !== undefined && ctx.string(p.State, `${at}.Properties.State`).toUpperCase() === 'DISABLED')
    return undefined;
  const entry: Obj = {
    cron: eventBridgeCron(
      ctx.string(p[exprKey], `${at}.Properties.${exprKey}`),
      `${at}.Properties.${exprKey}`,
      ctx,
    ),
  };
  if (type === 'ScheduleV2' && p.ScheduleExpressionTimezone !== undefined)
    entry.tz = ctx.string(p.ScheduleExpressionTimezone, `${at}.Properties.ScheduleExpressionTimezone`);
  if (p.Input !== undefined) {
    const input = ctx.string(p.Input, `${at}.Properties.Input`);
    try {
      entry.data = JSON.parse(input) as unknown;
    } catch {
      ctx.fail(`${at}.Properties.Input must be JSON text (it is the event the function receives)`);
    }
  }
  return { entry, ignored: Object.keys(p).filter((k) => !used.has(k)) };
}

/** An EventBridge schedule expression as a five-field cron. */
export function eventBridgeCron(expr: string, at: string, ctx: Pick<Intrinsics, 'fail'>): string {
  const text = expr.trim();
  const rate = /^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$/i.exec(text);
  if (rate) return rateCron(Number(rate[1]), (rate[2] as string).toLowerCase().replace(/s$/, ''), at, ctx);
  const cron = /^cron\((.*)\)$/i.exec(text);
  if (cron) {
    const fields = (cron[1] as string).trim().split(/\s+/);
    if (fields.length !== 6)
      ctx.fail(
        `${at} ${JSON.stringify(text)}: cron() takes six fields (minutes hours day-of-month month day-of-week year)`,
      );
    const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
    if (year !== '*')
      ctx.fail(`${at} ${JSON.stringify(text)}: kumo schedules repeat every year; the year field must be *`);
    return [min, hour, dom, month, dow]
      .map((f, i) => (f === '?' ? '*' : i === 4 ? shiftWeekdays(f) : f))
      .join(' ');
  }
  if (/^at\(/i.test(text))
    ctx.fail(`${at} ${JSON.stringify(text)}: one-time at() schedules are not supported; use a cron()`);
  return ctx.fail(`${at} ${JSON.stringify(text.slice(0, 80))} must be rate(N unit) or cron(…)`);
}

function rateCron(n: number, unit: string, at: string, ctx: Pick<Intrinsics, 'fail'>): string {
  if (n < 1) ctx.fail(`${at}: a rate must be at least 1`);
  if (unit === 'minute' && n < 60 && 60 % n === 0) return n === 1 ? '* * * * *' : `*/${n} * * * *`;
  if (unit === 'minute' && n % 60 === 0) return rateCron(n / 60, 'hour', at, ctx);
  if (unit === 'hour' && n < 24 && 24 % n === 0) return n === 1 ? '0 * * * *' : `0 */${n} * * *`;
  if (unit === 'hour' && n % 24 === 0) return rateCron(n / 24, 'day', at, ctx);
  if (unit === 'day' && n === 1) return '0 0 * * *';
  return ctx.fail(
    `${at}: rate(${n} ${unit}${n > 1 ? 's' : ''}) has no cron that fires at exactly that rate; use a rate that divides an hour or a day, or a cron()`,
  );
}

/** EventBridge numbers days 1 (SUN) to 7 (SAT), cron 0 to 6: shift every number, keep names. */
function shiftWeekdays(field: string): string {
  return field.replace(/(^|[,\-/#])(\d+)/g, (whole, sep: string, digits: string) => {
    // After "/" a number is a step and after "#" an occurrence, not a day.
    if (sep === '/' || sep === '#') return whole;
    const day = Number(digits);
    return day >= 1 && day <= 7 ? `${sep}${day - 1}` : whole;
  });
}
