/**
 * QueueStore on PostgreSQL. Every write that changes the queue is one transaction, so a crash
 * leaves each invocation in exactly one state. Claims take their rows with FOR UPDATE SKIP
 * LOCKED, so any number of claimers (workers of one node, or several nodes) share the ready
 * runs out without waiting on each other and never hand out one twice; a serial key is taken
 * with a transaction-level advisory lock, and checked again once held, so no two runs of one key
 * are ever running at once, whoever claims them.
 */
import { callbackDestination, type CallbackDelivery, type InvocationRecord } from '../../core/index.ts';
import type {
  CallbackJob,
  CallbackState,
  ClaimedRun,
  ClaimOptions,
  NewQueuedInvocation,
  QueueDepth,
  QueueStore,
  RunNext,
  RunResult,
} from '../queue.ts';
import { toClaimed, toRecord, type Row } from '../rows.ts';
import type { PgQuery, PgSql } from './database.ts';
import { chunks, pgText, type PgValue } from './values.ts';

const QUEUED_COLUMNS = [
  'id',
  'function',
  'trigger',
  'status',
  'attempt',
  'max_attempts',
  'created_at',
  'run_at',
  'schedule_id',
  'serial_key',
  'request',
  'request_body',
  'bodies_kept',
  'callback_url',
  'task_token',
  'callback_dest',
  'alias',
  'tick_key',
] as const;

/** Rows of QUEUED_COLUMNS a statement: under PostgreSQL's 65535 parameters a statement. */
const ROWS_PER_INSERT = Math.floor(65535 / QUEUED_COLUMNS.length);

/** PostgreSQL durable queue. */
export class PgQueueStore implements QueueStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async enqueue(q: NewQueuedInvocation): Promise<boolean> {
    const [stored] = await this.enqueueMany([q]);
    return stored === true;
  }

  async enqueueMany(list: readonly NewQueuedInvocation[]): Promise<boolean[]> {
    if (!list.length) return [];
    const rows = list.map(queuedRow);
    // A row whose tick key is taken is left out (a concurrent insert of the same key waits for
    // the first to commit, then is left out too); RETURNING names the rows stored.
    const insert = (q: PgQuery, part: typeof rows) =>
      q<Row[]>`INSERT INTO invocations ${q(part, ...QUEUED_COLUMNS)}
        ON CONFLICT (tick_key) WHERE tick_key IS NOT NULL DO NOTHING RETURNING id`;
    // One multi-row INSERT is one transaction by itself.
    const stored =
      rows.length <= ROWS_PER_INSERT
        ? await insert(this.sql, rows)
        : await this.sql.begin(async (tx) => {
            const all: Row[] = [];
            for (const part of chunks(rows, ROWS_PER_INSERT)) all.push(...(await insert(tx, part)));
            return all;
          });
    const ids = new Set(stored.map((r) => String(r.id)));
    return list.map((q) => ids.has(q.id));
  }

  async claim(o: ClaimOptions): Promise<ClaimedRun[]> {
    if (o.limit <= 0) return [];
    return this.sql.begin(async (tx) => {
      const candidates = await tx<Row[]>`SELECT id, function, serial_key FROM invocations
        WHERE status = 'queued' AND run_at <= ${o.now}
          AND function <> ALL(${[...o.excludeFunctions]}::text[])
          AND (serial_key IS NULL OR serial_key <> ALL(${[...o.excludeSerialKeys]}::text[]))
        ORDER BY run_at, seq LIMIT ${o.limit * 4}
        FOR UPDATE SKIP LOCKED`;
      const chosen: Row[] = [];
      const room = new Map<string, number>();
      const serials = new Set<string>();
      for (const c of candidates) {
        if (chosen.length >= o.limit) break;
        const fn = String(c.function);
        const left = room.get(fn) ?? o.perFunction(fn);
        if (left <= 0) continue;
        if (c.serial_key !== null) {
          const key = String(c.serial_key);
          if (serials.has(key) || !(await takeSerialKey(tx, key))) continue;
          serials.add(key);
        }
        room.set(fn, left - 1);
        chosen.push(c);
      }
      if (!chosen.length) return [];
      const ids = chosen.map((c) => String(c.id));
      const leases = chosen.map((c) => o.leaseUntil(String(c.function)));
      // One statement marks them running and opens their attempts (a data-modifying CTE).
      const rows = await tx<Row[]>`WITH claimed AS (
          UPDATE invocations AS i
          SET status = 'running', attempt = i.attempt + 1, lease_until = c.lease, started_at = ${o.now},
            node = ${o.node ?? null}
          FROM unnest(${ids}::text[], ${leases}::bigint[]) AS c(id, lease)
          WHERE i.id = c.id AND i.status = 'queued' RETURNING i.*
        ), opened AS (
          INSERT INTO invocation_attempts (invocation_id, attempt, started_at, node)
          SELECT id, attempt, ${o.now}, ${o.node ?? null}::text FROM claimed
          ON CONFLICT (invocation_id, attempt) DO UPDATE SET started_at = excluded.started_at, node = excluded.node, version = NULL,
            finished_at = NULL, duration_ms = NULL, status_code = NULL, outcome = NULL, cold = NULL, error = NULL
        )
        SELECT * FROM claimed`;
      const byId = new Map(rows.map((r) => [String(r.id), r]));
      const claimed = ids.map((id) => byId.get(id)).filter((r) => r !== undefined);
      return claimed.map(toClaimed);
    });
  }

  async finishRun(run: ClaimedRun, r: RunResult, next: RunNext): Promise<boolean> {
    return this.sql.begin((tx) => recordRun(tx, run, r, next));
  }

  async finishRuns(items: readonly { run: ClaimedRun; result: RunResult; next: RunNext }[]): Promise<void> {
    if (!items.length) return;
    // Not awaited one by one: the client pipelines the statements on the transaction's connection.
    await this.sql.begin((tx) => Promise.all(items.map((i) => recordRun(tx, i.run, i.result, i.next))));
  }

  async release(id: string, attempt: number, runAt: number): Promise<void> {
    await this.sql.begin(async (tx) => {
      const res =
        await tx`UPDATE invocations SET status = 'queued', attempt = attempt - 1, run_at = ${runAt}, lease_until = NULL
        WHERE id = ${id} AND attempt = ${attempt} AND status = 'running'`;
      if (res.count === 1)
        await tx`DELETE FROM invocation_attempts WHERE invocation_id = ${id} AND attempt = ${attempt}`;
    });
  }

  async recoverRunning(now: number, onlyExpired: boolean): Promise<number> {
    const sql = this.sql;
    return sql.begin(async (tx) => {
      const rows = await tx<Row[]>`UPDATE invocations
        SET status = 'queued', run_at = ${now}, lease_until = NULL, max_attempts = GREATEST(max_attempts, attempt + 1)
        WHERE status = 'running' ${onlyExpired ? tx`AND lease_until < ${now}` : tx``}
        RETURNING id, attempt`;
      if (rows.length)
        await tx`UPDATE invocation_attempts AS a SET outcome = 'interrupted', error = 'server_stopped'
          FROM unnest(${rows.map((r) => String(r.id))}::text[], ${rows.map((r) => Number(r.attempt))}::integer[]) AS r(id, attempt)
          WHERE a.invocation_id = r.id AND a.attempt = r.attempt AND a.finished_at IS NULL`;
      return rows.length;
    });
  }

  async redrive(id: string, now: number, extraAttempts: number): Promise<InvocationRecord | undefined> {
    const [row] = await this.sql<Row[]>`UPDATE invocations SET status = 'queued', run_at = ${now},
        max_attempts = attempt + ${extraAttempts}, callback_state = NULL, callback_attempts = 0,
        callback_next_at = NULL, callback_error = NULL
      WHERE id = ${id} AND status IN ('failed', 'dead') AND trigger <> 'http' RETURNING *`;
    return row ? toRecord(row) : undefined;
  }

  async renewLeases(runs: readonly { id: string; attempt: number }[], until: number): Promise<string[]> {
    if (!runs.length) return [];
    const kept = await this.sql<Row[]>`UPDATE invocations AS i SET lease_until = ${until}
      FROM unnest(${runs.map((r) => r.id)}::text[], ${runs.map((r) => r.attempt)}::integer[]) AS r(id, attempt)
      WHERE i.id = r.id AND i.attempt = r.attempt AND i.status = 'running' RETURNING i.id`;
    const ok = new Set(kept.map((r) => String(r.id)));
    return runs.filter((r) => !ok.has(r.id)).map((r) => r.id);
  }

  async dueCallbacks(
    now: number,
    limit: number,
    excludeDestinations: readonly string[] = [],
    claimUntil?: number,
  ): Promise<CallbackJob[]> {
    const due = this.sql`SELECT id FROM invocations
      WHERE callback_state = 'pending' AND callback_next_at <= ${now}
        AND (callback_dest IS NULL OR callback_dest <> ALL(${[...excludeDestinations]}::text[]))
      ORDER BY callback_next_at LIMIT ${limit}`;
    // A claim moves the next attempt to claimUntil in the statement that picks the rows; rows
    // another node is claiming at that moment are skipped, so no callback is handed out twice.
    const rows =
      claimUntil === undefined
        ? await this.sql<Row[]>`SELECT id, callback_url, task_token, callback_attempts FROM invocations
            WHERE id IN (${due}) ORDER BY callback_next_at`
        : await this.sql<Row[]>`UPDATE invocations SET callback_next_at = ${claimUntil}
            WHERE id IN (${due} FOR UPDATE SKIP LOCKED)
            RETURNING id, callback_url, task_token, callback_attempts`;
    return rows.map((r) => ({
      id: String(r.id),
      url: String(r.callback_url),
      taskToken: r.task_token === null ? null : String(r.task_token),
      attempts: Number(r.callback_attempts),
    }));
  }

  async recordDelivery(id: string, d: CallbackDelivery): Promise<void> {
    await this
      .sql`INSERT INTO callback_deliveries (invocation_id, attempt, started_at, duration_ms, outcome, status_code, error)
      SELECT id, ${d.attempt}, ${d.startedAt}, ${d.durationMs}, ${d.outcome}, ${d.statusCode}, ${pgText(d.error)}
      FROM invocations WHERE id = ${id}`;
  }

  async updateCallback(
    id: string,
    state: CallbackState,
    attempts: number,
    nextAt: number | null,
    error: string | null,
  ): Promise<void> {
    await this.sql`UPDATE invocations SET callback_state = ${state}, callback_attempts = ${attempts},
      callback_next_at = ${nextAt}, callback_error = ${pgText(error)} WHERE id = ${id}`;
  }

  async queueDepth(): Promise<QueueDepth[]> {
    // Two reads of the partial indexes of queued and running rows, not a scan of the whole history.
    const rows = await this.sql<Row[]>`SELECT function, SUM(q) AS queued, SUM(r) AS running FROM (
        SELECT function, 1 AS q, 0 AS r FROM invocations WHERE status = 'queued'
        UNION ALL SELECT function, 0, 1 FROM invocations WHERE status = 'running') AS active
      GROUP BY function ORDER BY function COLLATE "C"`;
    return rows.map((r) => ({
      function: String(r.function),
      queued: Number(r.queued),
      running: Number(r.running),
    }));
  }

  async oldestReady(now: number): Promise<number | undefined> {
    const [row] = await this.sql<
      Row[]
    >`SELECT MIN(run_at) AS t FROM invocations WHERE status = 'queued' AND run_at <= ${now}`;
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
  }

  async activeForSchedule(scheduleId: string): Promise<number> {
    const [row] = await this.sql<Row[]>`SELECT COUNT(*) AS n FROM invocations
      WHERE schedule_id = ${scheduleId} AND status IN ('queued', 'running')`;
    return Number(row?.n ?? 0);
  }
}

/**
 * Takes serial key `key` for this claim's transaction: false when another claim holds it, or when a
 * run of that key is already running (read after the lock is held, so a claim that committed just
 * before is seen).
 */
async function takeSerialKey(tx: PgQuery, key: string): Promise<boolean> {
  const [lock] = await tx<Row[]>`SELECT pg_try_advisory_xact_lock(hashtext(${`kumo-serial:${key}`})) AS ok`;
  if (lock?.ok !== true) return false;
  const running =
    await tx`SELECT 1 FROM invocations WHERE status = 'running' AND serial_key = ${key} LIMIT 1`;
  return running.length === 0;
}

/** Records a run's result on the invocation and its attempt; false if the invocation is gone (or not this attempt). */
async function recordRun(tx: PgQuery, run: ClaimedRun, r: RunResult, next: RunNext): Promise<boolean> {
  const terminal = next.status !== 'queued';
  const keep = r.keepRequestBytes;
  const res =
    await tx`UPDATE invocations SET status = ${next.status}, version = ${r.version}, status_code = ${r.statusCode},
      outcome = ${r.outcome}, cold = ${r.cold}, started_at = ${r.startedAt}, finished_at = ${r.finishedAt},
      duration_ms = ${r.finishedAt - r.startedAt}, response_headers = ${JSON.stringify(r.responseHeaders)},
      response_body = ${r.responseBody}, response_truncated = ${r.responseTruncated},
      error = ${r.error ? JSON.stringify(r.error) : null}, run_at = ${next.status === 'queued' ? next.runAt : null},
      lease_until = NULL
      ${
        terminal
          ? tx`, callback_state = CASE WHEN callback_url IS NOT NULL THEN 'pending' ELSE callback_state END,
              callback_next_at = CASE WHEN callback_url IS NOT NULL THEN ${r.finishedAt}::bigint ELSE callback_next_at END,
              callback_attempts = CASE WHEN callback_url IS NOT NULL THEN 0 ELSE callback_attempts END`
          : tx``
      }
      ${
        next.status === 'succeeded'
          ? tx`, request_truncated = CASE WHEN bodies_kept AND octet_length(request_body) > ${keep}::integer THEN true ELSE request_truncated END,
              request_body = CASE WHEN NOT bodies_kept THEN NULL
                WHEN octet_length(request_body) > ${keep}::integer THEN substring(request_body FROM 1 FOR ${keep}::integer)
                ELSE request_body END`
          : tx``
      }
    WHERE id = ${run.id} AND attempt = ${run.attempt} AND status = 'running'`;
  await tx`UPDATE invocation_attempts SET version = ${r.version}, started_at = ${r.startedAt}, finished_at = ${r.finishedAt},
      duration_ms = ${r.finishedAt - r.startedAt}, status_code = ${r.statusCode}, outcome = ${r.outcome}, cold = ${r.cold},
      error = ${r.error?.code ?? null}
    WHERE invocation_id = ${run.id} AND attempt = ${run.attempt}`;
  return res.count === 1;
}

/** A new queued invocation as a row of `invocations`. */
function queuedRow(q: NewQueuedInvocation): Record<(typeof QUEUED_COLUMNS)[number], PgValue> {
  return {
    id: q.id,
    function: q.function,
    trigger: q.trigger,
    status: 'queued',
    attempt: 0,
    max_attempts: q.maxAttempts,
    created_at: q.createdAt,
    run_at: q.runAt,
    schedule_id: q.scheduleId,
    serial_key: q.serialKey,
    request: JSON.stringify(q.request),
    request_body: q.body,
    bodies_kept: q.bodiesKept,
    callback_url: q.callbackUrl,
    task_token: q.taskToken,
    callback_dest: q.callbackUrl === null ? null : callbackDestination(q.callbackUrl),
    alias: q.alias ?? null,
    tick_key: q.tickKey ?? null,
  };
}
