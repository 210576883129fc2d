/**
 * InvocationStore (the history) on PostgreSQL. The `invocations` table holds the queue's entries
 * too (queue-store.ts): an invocation has one record from enqueue to its end.
 */
import { once } from 'node:events';
import type { AttemptRecord, CallbackDelivery, InvocationRecord, LogLine } from '../../core/index.ts';
import type { HistoryQuery, InvocationStore, Pruned, StatsBucketRow, StatsSample } from '../invocations.ts';
import { toAttempt, toDelivery, toLogLine, toRecord, toStatsSample, type Row } from '../rows.ts';
import type { PgQuery, PgSql } from './database.ts';
import { chunks } from './values.ts';

/** A value of a JSON row. */
type JsonValue = string | number | boolean | null;

/** Invocations in a terminal state, as a list for `status = ANY(...)`. */
const TERMINAL = ['succeeded', 'failed', 'dead'];
/** Columns of an insert of a finished invocation, with their types. */
const FINISHED_TYPES = {
  id: 'text',
  function: 'text',
  version: 'integer',
  trigger: 'text',
  status: 'text',
  attempt: 'integer',
  max_attempts: 'integer',
  status_code: 'integer',
  outcome: 'text',
  cold: 'boolean',
  created_at: 'bigint',
  started_at: 'bigint',
  finished_at: 'bigint',
  duration_ms: 'double precision',
  request: 'text',
  request_body: 'bytea',
  request_truncated: 'boolean',
  response_headers: 'text',
  response_body: 'bytea',
  response_truncated: 'boolean',
  error: 'text',
  bodies_kept: 'boolean',
  alias: 'text',
  node: 'text',
} as const;
const FINISHED_COLUMNS = Object.keys(FINISHED_TYPES) as (keyof typeof FINISHED_TYPES)[];

/**
 * The upsert of a batch of finished invocations, for a batch holding an id already stored (a batch
 * written again after a commit whose answer was lost): the rows travel as one JSON array, unpacked
 * by json_to_recordset (bodies as base64), so the statement's text is the same for every batch and
 * is prepared once per connection.
 */
const UPSERT_FINISHED = `INSERT INTO invocations (${FINISHED_COLUMNS.join(', ')})
  SELECT ${FINISHED_COLUMNS.map((c) => (FINISHED_TYPES[c] === 'bytea' ? `decode(x.${c}, 'base64')` : `x.${c}`)).join(', ')}
  FROM json_to_recordset($1::text::json) AS x(${FINISHED_COLUMNS.map((c) => `${c} ${FINISHED_TYPES[c] === 'bytea' ? 'text' : FINISHED_TYPES[c]}`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${FINISHED_COLUMNS.filter((c) => c !== 'id')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

/**
 * The insert of a batch of finished invocations, the common case: COPY in text format. Against the
 * upsert above (30,000 hello rows in batches of 300, durable commits), PostgreSQL spends 18–23 µs
 * of CPU a row instead of 25–36 (no JSON to parse, no base64 to decode, no speculative insertion)
 * and kumo 15 µs instead of 21–35 (no JSON, no base64): on a host PostgreSQL shares, that CPU is
 * the gateway's.
 */
const COPY_FINISHED = `COPY invocations (${FINISHED_COLUMNS.join(', ')}) FROM STDIN`;

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** Rows a statement (or a write of the COPY) carries at most: bodies are bounded, so a few MB. */
const ROWS_PER_STATEMENT = 500;

/** PostgreSQL invocation history. */
export class PgInvocationStore implements InvocationStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async insertFinished(records: InvocationRecord[]): Promise<void> {
    if (!records.length) return;
    // One row per id (the last wins, as INSERT OR REPLACE does): an upsert may not touch a row twice.
    const rows = [...new Map(records.map((r) => [r.id, r])).values()];
    try {
      await this.copyFinished(rows);
    } catch (err) {
      // COPY cannot replace a row: the rare batch holding a stored id is written again as an
      // upsert (the failed COPY wrote nothing).
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      await this.sql.begin(async (tx) => {
        for (const part of chunks(rows.map(finishedRow), ROWS_PER_STATEMENT))
          await tx.unsafe(UPSERT_FINISHED, [JSON.stringify(part)], { prepare: true });
      });
    }
  }

  /** Writes `rows` with one COPY: all of them or, on any error, none. */
  private async copyFinished(rows: InvocationRecord[]): Promise<void> {
    const copy = await this.sql.unsafe(COPY_FINISHED).writable();
    const done = new Promise<void>((resolve, reject) => {
      copy.once('error', reject);
      copy.once('finish', resolve);
    });
    for (const part of chunks(rows, ROWS_PER_STATEMENT))
      if (!copy.write(Buffer.from(part.map(copyLine).join(''))))
        await Promise.race([once(copy, 'drain'), done]);
    copy.end();
    await done;
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM invocations WHERE id = ${id}`;
    return row ? toRecord(row) : undefined;
  }

  async attempts(id: string): Promise<AttemptRecord[]> {
    return (
      await this.sql<Row[]>`SELECT * FROM invocation_attempts WHERE invocation_id = ${id} ORDER BY attempt`
    ).map(toAttempt);
  }

  async logs(id: string, limit: number): Promise<LogLine[]> {
    return (
      await this.sql<Row[]>`SELECT * FROM logs WHERE invocation_id = ${id} ORDER BY id LIMIT ${limit}`
    ).map(toLogLine);
  }

  async deliveries(id: string): Promise<CallbackDelivery[]> {
    return (
      await this.sql<Row[]>`SELECT * FROM callback_deliveries WHERE invocation_id = ${id} ORDER BY id`
    ).map(toDelivery);
  }

  async list(q: HistoryQuery): Promise<InvocationRecord[]> {
    const sql = this.sql;
    const where = [
      q.function === undefined ? undefined : sql`function = ${q.function}`,
      q.status === undefined ? undefined : sql`status = ${q.status}`,
      q.trigger === undefined ? undefined : sql`trigger = ${q.trigger}`,
      q.since === undefined ? undefined : sql`created_at >= ${q.since}`,
      q.before === undefined ? undefined : sql`created_at < ${q.before}`,
    ].filter((c) => c !== undefined);
    const filter = where.reduce((acc, c, i) => (i === 0 ? sql`WHERE ${c}` : sql`${acc} AND ${c}`), sql``);
    const rows = await sql<
      Row[]
    >`SELECT id, function, version, trigger, status, attempt, max_attempts, status_code, outcome,
        cold, created_at, started_at, finished_at, duration_ms, run_at, schedule_id, request, request_truncated,
        response_headers, response_truncated, error, bodies_kept, callback_url, task_token, callback_state,
        callback_attempts, callback_next_at, callback_error, alias, node
      FROM invocations ${filter} ORDER BY created_at DESC, seq DESC LIMIT ${q.limit}`;
    return rows.map(toRecord);
  }

  async statsSamples(since: number, fn: string | undefined, limit: number): Promise<StatsSample[]> {
    const sql = this.sql;
    const rows = await sql<Row[]>`SELECT function, created_at, status, duration_ms, cold FROM invocations
      WHERE created_at >= ${since} AND status = ANY(${TERMINAL}::text[]) AND duration_ms IS NOT NULL
        ${fn === undefined ? sql`` : sql`AND function = ${fn}`}
      ORDER BY created_at DESC LIMIT ${limit}`;
    return rows.map(toStatsSample);
  }

  async statsBuckets(fn: string, start: number, step: number): Promise<StatsBucketRow[]> {
    const from = Math.floor(start);
    // Grouped by the server: one row per bucket, its durations as one array.
    const rows = await this.sql<
      Row[]
    >`SELECT (created_at - ${from}::bigint) / ${Math.floor(step)}::bigint AS index,
        count(*) AS count, count(*) FILTER (WHERE status <> 'succeeded') AS errors,
        count(*) FILTER (WHERE cold) AS cold_starts, array_agg(duration_ms) AS durations
      FROM invocations
      WHERE function = ${fn} AND created_at >= ${from}::bigint AND status = ANY(${TERMINAL}::text[]) AND duration_ms IS NOT NULL
      GROUP BY 1`;
    return rows.map((r) => ({
      index: Number(r.index),
      count: Number(r.count),
      errors: Number(r.errors),
      coldStarts: Number(r.cold_starts),
      durations: (r.durations as unknown[]).map(Number),
    }));
  }

  async prune(maxPerFunction: number, olderThan: number, functions?: readonly string[]): Promise<Pruned> {
    return this.sql.begin(async (tx) => {
      const pruned = await dropRows(
        tx,
        await tx<
          Row[]
        >`DELETE FROM invocations WHERE created_at < ${olderThan} AND status = ANY(${TERMINAL}::text[])
          RETURNING id, ${tx.unsafe(BODY_BYTES)} AS bytes`,
      );
      const names =
        functions ??
        (await tx<Row[]>`SELECT DISTINCT function FROM invocations`).map((r) => String(r.function));
      for (const fn of names) {
        const [cut] = await tx<Row[]>`SELECT created_at FROM invocations WHERE function = ${fn}
          ORDER BY created_at DESC LIMIT 1 OFFSET ${maxPerFunction}`;
        if (!cut) continue;
        const more = await dropRows(
          tx,
          await tx<
            Row[]
          >`DELETE FROM invocations WHERE function = ${fn} AND created_at <= ${Number(cut.created_at)}
            AND status = ANY(${TERMINAL}::text[]) RETURNING id, ${tx.unsafe(BODY_BYTES)} AS bytes`,
        );
        pruned.removed += more.removed;
        pruned.bytes += more.bytes;
      }
      return pruned;
    });
  }

  async pruneOldest(limit: number): Promise<Pruned> {
    return this.sql.begin(async (tx) =>
      dropRows(
        tx,
        await tx<Row[]>`DELETE FROM invocations WHERE id IN (
            SELECT id FROM invocations WHERE status = ANY(${TERMINAL}::text[]) ORDER BY created_at, seq LIMIT ${limit})
          RETURNING id, ${tx.unsafe(BODY_BYTES)} AS bytes`,
      ),
    );
  }

  async bodyBytes(): Promise<number> {
    const [row] = await this.sql<Row[]>`SELECT SUM(${this.sql.unsafe(BODY_BYTES)}) AS n FROM invocations
      WHERE status = ANY(${TERMINAL}::text[])`;
    return Number(row?.n ?? 0);
  }
}

/** The bytes of a row's stored request and response: bodies and headers. */
const BODY_BYTES =
  'COALESCE(octet_length(request_body), 0) + COALESCE(octet_length(response_body), 0) + octet_length(request) + COALESCE(octet_length(response_headers), 0)';

/** Removes the attempts of deleted invocations; counts them and their body bytes. */
async function dropRows(tx: PgQuery, rows: Row[]): Promise<Pruned> {
  if (rows.length)
    await tx`DELETE FROM invocation_attempts WHERE invocation_id = ANY(${rows.map((r) => String(r.id))}::text[])`;
  return { removed: rows.length, bytes: rows.reduce((sum, r) => sum + Number(r.bytes ?? 0), 0) };
}

/** The value of each column of a finished invocation's row (bodies as bytes). */
type FinishedValues = Record<(typeof FINISHED_COLUMNS)[number], string | number | boolean | Buffer | null>;

/** A finished invocation as the values of its row. */
function finishedValues(r: InvocationRecord): FinishedValues {
  return {
    id: r.id,
    function: r.function,
    version: r.version,
    trigger: r.trigger,
    status: r.status,
    attempt: r.attempt,
    max_attempts: r.maxAttempts,
    status_code: r.statusCode,
    outcome: r.outcome,
    cold: r.cold,
    created_at: r.createdAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
    request: JSON.stringify(r.request),
    request_body: r.requestBody,
    request_truncated: r.requestTruncated,
    response_headers: r.responseHeaders ? JSON.stringify(r.responseHeaders) : null,
    response_body: r.responseBody,
    response_truncated: r.responseTruncated,
    error: r.error ? JSON.stringify(r.error) : null,
    bodies_kept: r.bodiesKept,
    alias: r.alias,
    node: r.node ?? null,
  };
}

/** A finished invocation as a JSON row of UPSERT_FINISHED (bodies in base64). */
function finishedRow(r: InvocationRecord): Record<string, JsonValue> {
  const v = finishedValues(r);
  const row: Record<string, JsonValue> = {};
  for (const c of FINISHED_COLUMNS) {
    const x = v[c];
    row[c] = Buffer.isBuffer(x) ? x.toString('base64') : x;
  }
  return row;
}

/**
 * A finished invocation as one line of COPY's text format: FINISHED_COLUMNS in order,
 * tab-separated, `\N` for NULL, bytea as hex. Every text value is escaped, so a backslash, tab,
 * newline or carriage return in a header, path or error a caller sent cannot end a field or a row
 * early.
 */
function copyLine(r: InvocationRecord): string {
  const v = finishedValues(r);
  return FINISHED_COLUMNS.map((c) => copyField(v[c])).join('\t') + '\n';
}

/** One value in COPY's text format. */
function copyField(v: string | number | boolean | Buffer | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  return COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, (c) => COPY_ESCAPED[c] ?? c) : v;
}

/** The characters COPY's text format escapes with a backslash. */
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
