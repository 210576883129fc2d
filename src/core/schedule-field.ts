/**
 * The manifest's `schedule:` field. It takes three shapes (a cron string, a mapping, a list of
 * either), so it is parsed by hand into `ScheduleSpec[]`, reporting each problem at its own path
 * (`schedule.1.tz`) for the deploy error to name the field.
 */
import { z } from 'zod';
import { CATCHUP_POLICIES, cronProblem, OVERLAP_POLICIES, type ScheduleSpec } from './schedule.ts';

/** At most this many schedules per function. */
export const MAX_SCHEDULES = 20;

const entrySchema = z.strictObject({
  cron: z.string({ error: 'must be a cron expression string' }),
  tz: z.string({ error: 'must be an IANA time zone like "Europe/Paris"' }).optional(),
  data: z.unknown().optional(),
  overlap: z
    .enum(OVERLAP_POLICIES, { error: `must be one of: ${OVERLAP_POLICIES.join(', ')}` })
    .default('skip'),
  catchup: z
    .enum(CATCHUP_POLICIES, { error: `must be one of: ${CATCHUP_POLICIES.join(', ')}` })
    .default('none'),
});

/** A schedule as the API takes it (`POST /functions/NAME/schedules`): the mapping form, cron checked. */
export const scheduleBody = entrySchema.superRefine((entry, ctx) => {
  const problem = cronProblem(entry.cron, entry.tz);
  if (problem)
    ctx.addIssue({
      code: 'custom',
      path: [problem.startsWith('time zone') ? 'tz' : 'cron'],
      message: problem,
    });
});

/** Receives one problem: where (below the entry's path) and what. */
export type ReportIssue = (path: (string | number)[], message: string) => void;

/** Validates one schedule entry (string or mapping) found at `path`; problems go to `report`. */
export function parseScheduleEntry(
  raw: unknown,
  path: (string | number)[],
  report: ReportIssue,
): ScheduleSpec | undefined {
  const parsed = entrySchema.safeParse(typeof raw === 'string' ? { cron: raw } : raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        report(path, `has unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
      } else if (issue.code === 'invalid_type' && issue.path.length === 0) {
        report(path, 'must be a cron string or a mapping with "cron"');
      } else {
        report([...path, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], issue.message);
      }
    }
    return undefined;
  }
  const entry = parsed.data;
  const problem = cronProblem(entry.cron, entry.tz);
  if (problem) {
    report([...path, problem.startsWith('time zone') ? 'tz' : 'cron'], problem);
    return undefined;
  }
  return { cron: entry.cron, tz: entry.tz, data: entry.data, overlap: entry.overlap, catchup: entry.catchup };
}

/** `schedule:` → the list of schedules. */
export const scheduleField = z.unknown().transform((raw, ctx): ScheduleSpec[] => {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_SCHEDULES) {
    ctx.addIssue({
      code: 'custom',
      message: `must list at most ${MAX_SCHEDULES} schedules (got ${list.length})`,
    });
    return z.NEVER;
  }
  const out: ScheduleSpec[] = [];
  list.forEach((entry, i) => {
    const spec = parseScheduleEntry(entry, Array.isArray(raw) ? [i] : [], (path, message) =>
      ctx.addIssue({ code: 'custom', path, message }),
    );
    if (spec) out.push(spec);
  });
  return out.length === list.length ? out : z.NEVER;
});
