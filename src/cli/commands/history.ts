/** `kumo history [NAME] [--status …] [--since …]` and `kumo history ID`: the invocation history. */
import { formatDuration } from '../../core/index.ts';
import { COMMON_HELP, FUNCTION_NAME_OR_ID, intFlag, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText } from '../command.ts';
import { formatTable, formatTime } from '../format.ts';
import { UsageError, write } from '../io.ts';
import {
  historyListSchema,
  invocationDetailSchema,
  type InvocationDetailOut,
  type InvocationSummaryOut,
} from '../invocation-responses.ts';

const SYNOPSIS = 'history [NAME | ID] [--status S] [--trigger T] [--since 1h] [--limit N]';

const USAGE = `Usage: kumo ${SYNOPSIS}

Without ID, list invocations newest first (of every function, or of NAME):
ID STARTED FUNCTION VERSION TRIGGER STATUS ATTEMPT CODE DURATION COLD.
With an invocation ID, show that one in full: request, response, attempts and log lines.

Options:
  --status S     queued, running, succeeded, failed or dead
  --trigger T    http, async or cron
  --since 1h     only invocations from this long ago ("10m", "2h") or since epoch ms
  --limit N      at most N (default 50, max 1000)

${COMMON_HELP}`;

const OPTIONS = {
  status: { type: 'string' },
  trigger: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
} as const;

/** `kumo history`. */
export const historyCommand: Command = {
  name: 'history',
  synopsis: SYNOPSIS,
  summary: 'list invocations, or show one in full',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommand(args, OPTIONS, USAGE);
    if (values.help) return printText(io, USAGE);
    if (positionals.length > 1)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, USAGE);
    const target = positionals[0];
    const client = clientFor(values, io);
    if (target !== undefined && FUNCTION_NAME_OR_ID.id.test(target)) {
      const { raw, data } = await client.json(invocationDetailSchema, 'GET', `/api/v1/invocations/${target}`);
      if (values.json) await printJson(io, raw);
      else await write(io.stdout, formatDetail(data));
      return 0;
    }
    if (target !== undefined && !FUNCTION_NAME_OR_ID.name.test(target)) {
      throw new UsageError(
        `${JSON.stringify(target)} is neither a function name nor an invocation id`,
        USAGE,
      );
    }
    const limit = intFlag(values.limit, 'limit', USAGE);
    const { raw, data } = await client.json(historyListSchema, 'GET', '/api/v1/history', {
      query: {
        function: target,
        status: values.status,
        trigger: values.trigger,
        since: values.since,
        limit: limit === undefined ? undefined : String(limit),
      },
    });
    if (values.json) {
      await printJson(io, raw);
      return 0;
    }
    if (!data.invocations.length) {
      await write(io.stdout, 'no invocations match\n');
      return 0;
    }
    await write(
      io.stdout,
      formatTable(
        ['ID', 'STARTED', 'FUNCTION', 'VERSION', 'TRIGGER', 'STATUS', 'ATTEMPT', 'CODE', 'DURATION', 'COLD'],
        data.invocations.map(row),
      ),
    );
    return 0;
  },
};

function row(i: InvocationSummaryOut): string[] {
  return [
    i.id,
    formatTime(i.startedAt ?? i.createdAt),
    i.function,
    (i.version === null ? '-' : `v${i.version}`) + (i.alias ? ` via ${i.alias}` : ''),
    i.trigger,
    i.status,
    `${i.attempt}/${i.maxAttempts}`,
    i.statusCode === null ? '-' : String(i.statusCode),
    i.durationMs === null ? '-' : formatDuration(i.durationMs),
    i.cold === null ? '-' : i.cold ? 'cold' : 'warm',
  ];
}

/** One invocation in full, for people. */
export function formatDetail(d: InvocationDetailOut): string {
  const lines = [
    `id        ${d.id}`,
    `function  ${d.function}${d.version === null ? '' : ` v${d.version}`}${d.alias ? ` via alias ${d.alias}` : ''}  (trigger ${d.trigger})`,
    `status    ${d.status}${d.statusCode === null ? '' : ` ${d.statusCode}`}${d.outcome ? ` ${d.outcome}` : ''}, attempt ${d.attempt} of ${d.maxAttempts}`,
    `started   ${d.startedAt === null ? '-' : formatTime(d.startedAt)}  duration ${d.durationMs === null ? '-' : formatDuration(d.durationMs)}${d.cold === null ? '' : d.cold ? '  cold' : '  warm'}`,
  ];
  if (d.nextRunAt) lines.push(`next run  ${formatTime(d.nextRunAt)}`);
  if (d.error) lines.push(`error     ${d.error.code}: ${d.error.message}`);
  if (d.callback) {
    lines.push(`callback  ${d.callback.url} (${d.callback.state}, ${d.callback.attempts} attempt(s))`);
    for (const t of d.callback.deliveries ?? [])
      lines.push(
        `  #${t.attempt} ${formatTime(t.startedAt)} ${t.outcome}${t.statusCode === null ? '' : ` ${t.statusCode}`} in ${formatDuration(t.durationMs)}${t.error && t.outcome !== 'answered' ? `: ${t.error}` : ''}`,
      );
  }
  lines.push('', `request   ${d.request.method} ${d.request.path}`);
  for (const [k, v] of Object.entries(d.request.headers)) lines.push(`  ${k}: ${v}`);
  lines.push(...bodyLines(d.request));
  if (d.response) {
    lines.push('', 'response');
    for (const [k, v] of Object.entries(d.response.headers)) lines.push(`  ${k}: ${v}`);
    lines.push(...bodyLines(d.response));
  }
  lines.push('', 'attempts');
  for (const a of d.attempts) {
    lines.push(
      `  ${a.attempt}  ${formatTime(a.startedAt)}  ${a.statusCode ?? '-'} ${a.outcome ?? 'running'}${a.durationMs === null ? '' : `  ${formatDuration(a.durationMs)}`}${a.error ? `  ${a.error}` : ''}`,
    );
  }
  lines.push('', `logs (${d.logs.length})`);
  for (const l of d.logs) lines.push(`  ${new Date(l.time).toISOString()} ${l.stream}: ${l.line}`);
  return `${lines.join('\n')}\n`;
}

function bodyLines(b: { body: string | null; encoding: string | null; truncated: boolean }): string[] {
  if (b.body === null) return ['  (body not kept)'];
  if (b.body === '') return [];
  const text = b.encoding === 'base64' ? `(base64) ${b.body}` : b.body;
  return ['', ...text.split('\n').map((l) => `  ${l}`), ...(b.truncated ? ['  … (truncated)'] : [])];
}
