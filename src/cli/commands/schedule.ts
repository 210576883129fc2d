/** `kumo schedule NAME --cron …`: run a function on a cron schedule. */
import { CATCHUP_POLICIES, OVERLAP_POLICIES } from '../../core/index.ts';
import { COMMON_HELP, functionName, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTime } from '../format.ts';
import { UsageError } from '../io.ts';
import { scheduleSchema } from '../invocation-responses.ts';

const SYNOPSIS =
  'schedule NAME --cron "0 * * * *" [--tz Europe/Paris] [--data JSON] [--overlap skip|allow|queue] [--catchup none|one]';

const USAGE = `Usage: kumo ${SYNOPSIS}

Run NAME on a cron schedule: at each tick kumo POSTs --data (JSON) to it through the durable queue
(trigger "cron" in the history). A cron expression has 5 fields (minute hour day month weekday) or
6 with seconds first; "@hourly"-style nicknames work too.

Options:
  --cron EXPR        the schedule (required)
  --tz ZONE          IANA time zone the expression is read in (default UTC)
  --data JSON        request body of each run
  --overlap POLICY   while the previous run is still going: skip the tick (default), allow a second
                     run, or queue it to start when the previous one ends
  --catchup POLICY   after kumo was down over ticks: none (default) or one run at start

Schedules in kumo.yaml (schedule:) follow the deployed version; these ones stay until
\`kumo unschedule\`.

${COMMON_HELP}`;

const OPTIONS = {
  cron: { type: 'string' },
  tz: { type: 'string' },
  data: { type: 'string' },
  overlap: { type: 'string' },
  catchup: { type: 'string' },
} as const;

/** `kumo schedule`. */
export const scheduleCommand: Command = {
  name: 'schedule',
  synopsis: SYNOPSIS,
  summary: 'run a function on a cron schedule',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    const name = functionName(positionals, USAGE);
    if (values.cron === undefined) throw new UsageError('missing --cron', USAGE);
    if (values.overlap !== undefined && !(OVERLAP_POLICIES as readonly string[]).includes(values.overlap)) {
      throw new UsageError(
        `--overlap must be one of ${OVERLAP_POLICIES.join(', ')} (got ${JSON.stringify(values.overlap)})`,
        USAGE,
      );
    }
    if (values.catchup !== undefined && !(CATCHUP_POLICIES as readonly string[]).includes(values.catchup)) {
      throw new UsageError(
        `--catchup must be one of ${CATCHUP_POLICIES.join(', ')} (got ${JSON.stringify(values.catchup)})`,
        USAGE,
      );
    }
    let data: unknown;
    if (values.data !== undefined) {
      try {
        data = JSON.parse(values.data);
      } catch {
        throw new UsageError(
          `--data must be JSON, e.g. '{"report":"daily"}' (got ${JSON.stringify(values.data)})`,
          USAGE,
        );
      }
    }
    const body = { cron: values.cron, tz: values.tz, data, overlap: values.overlap, catchup: values.catchup };
    const { raw, data: s } = await clientFor(values, io).json(
      scheduleSchema,
      'POST',
      `/api/v1/functions/${name}/schedules`,
      { body },
    );
    if (values.json) await printJson(io, raw);
    else
      await println(
        io,
        `scheduled ${name} (${s.id}): "${s.cron}"${s.tz ? ` in ${s.tz}` : ''}, next ${s.next.slice(0, 3).map(formatTime).join(', ')}`,
      );
    return 0;
  },
};
