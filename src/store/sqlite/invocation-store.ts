/**
 * InvocationStore and ScheduleStore on the server's SQLite database (shared with SqliteStore).
 * Every write that changes the queue is one transaction, so a crash leaves each invocation in
 * exactly one state; WAL with synchronous=NORMAL makes a commit survive a process crash.
 */
import { SqliteStatements } from './statements.ts';
import type { SQLInputValue } from 'node:sqlite';
import {
  callbackDestination,
  type AttemptRecord,
  type CallbackDelivery,
  type DeliveryOutcome,
  type InvocationRecord,
  type LogLine,
  type Outcome,
  type ScheduleRecord,
} from '../../core/index.ts';
import type {
  CallbackJob,
  ClaimedRun,
  HistoryQuery,
  InvocationStore,
  NewQueuedInvocation,
  Pruned,
  QueueDepth,
  RunNext,
  RunResult,
  ScheduleStore,
  StatsBucketRow,
  StatsSample,
} from '../invocations.ts';

type Row = Record<string, unknown>;

const TERMINAL_SQL = "('succeeded', 'failed', 'dead')";
/** The bytes of a row's stored request and response: bodies and headers (a request may carry 16 KB of headers). */
const BODY_BYTES =
  'COALESCE(length(request_body), 0) + COALESCE(length(response_body), 0) + length(request) + COALESCE(length(response_headers), 0)';
/** Columns of a listing: everything but the bodies. */
const SUMMARY_COLUMNS = `id, function, version, trigger, status, attempt, max_attempts, status_code, outcome, cold, created_at,
  started_at, finished_at, duration_ms, run_at, schedule_id, request, request_truncated, response_headers, response_truncated,
  error, bodies_kept, callback_url, task_token, callback_state, callback_attempts, callback_next_at, callback_error`;

/** SQLite invocations, attempts and schedules. */
export class SqliteInvocationStore extends SqliteStatements implements InvocationStore, ScheduleStore {
  insertFinished(records: InvocationRecord[]): void {
    if (!records.length) return;
    const insert = this.prepare(
      `INSERT OR REPLACE INTO invocations (id, function, version, trigger, status, attempt, max_attempts, status_code, outcome, cold,
         created_at, started_at, finished_at, duration_ms, request, request_body, request_truncated, response_headers,
         response_body, response_truncated, error, bodies_kept)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.transaction(() => {
      for (const r of records) {
        insert.run(
          r.id,
          r.function,
          r.version,
          r.trigger,
          r.status,
          r.attempt,
          r.maxAttempts,
          r.statusCode,
          r.outcome,
          bool(r.cold),
          r.createdAt,
          r.startedAt,
          r.finishedAt,
          r.durationMs,
          JSON.stringify(r.request),
          r.requestBody,
          r.requestTruncated ? 1 : 0,
          r.responseHeaders ? JSON.stringify(r.responseHeaders) : null,
          r.responseBody,
          r.responseTruncated ? 1 : 0,
          r.error ? JSON.stringify(r.error) : null,
          r.bodiesKept ? 1 : 0,
        );
      }
    });
  }

  enqueue(q: NewQueuedInvocation): void {
    this.insertQueued(q);
  }

  enqueueMany(list: readonly NewQueuedInvocation[]): void {
    if (list.length === 1) return this.insertQueued(list[0] as NewQueuedInvocation);
    this.transaction(() => {
      for (const q of list) this.insertQueued(q);
    });
  }

  private insertQueued(q: NewQueuedInvocation): void {
    this.prepare(
      `INSERT INTO invocations (id, function, trigger, status, attempt, max_attempts, created_at, run_at, schedule_id, serial_key,
         request, request_body, bodies_kept, callback_url, task_token, callback_dest)
       VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      q.id,
      q.function,
      q.trigger,
      q.maxAttempts,
      q.createdAt,
      q.runAt,
      q.scheduleId,
      q.serialKey,
      JSON.stringify(q.request),
      q.body,
      q.bodiesKept ? 1 : 0,
      q.callbackUrl,
      q.taskToken,
      q.callbackUrl === null ? null : callbackDestination(q.callbackUrl),
    );
  }

  claim(o: Parameters<InvocationStore['claim']>[0]): ClaimedRun[] {
    if (o.limit <= 0) return [];
    const candidates = this.prepare(
      `SELECT id, function, serial_key FROM invocations
       WHERE status = 'queued' AND run_at <= ?
         AND function NOT IN (SELECT value FROM json_each(?))
         AND (serial_key IS NULL OR serial_key NOT IN (SELECT value FROM json_each(?)))
       ORDER BY run_at, rowid LIMIT ?`,
    ).all(
      o.now,
      JSON.stringify(o.excludeFunctions),
      JSON.stringify(o.excludeSerialKeys),
      o.limit * 4,
    ) as Row[];
    const room = new Map<string, number>();
    const serials = new Set<string>();
    const chosen: Row[] = [];
    for (const c of candidates) {
      if (chosen.length >= o.limit) break;
      const fn = String(c.function);
      const left = room.get(fn) ?? o.perFunction(fn);
      if (left <= 0) continue;
      if (c.serial_key !== null) {
        if (serials.has(String(c.serial_key))) continue;
        serials.add(String(c.serial_key));
      }
      room.set(fn, left - 1);
      chosen.push(c);
    }
    if (!chosen.length) return [];
    const update = this.prepare(
      `UPDATE invocations SET status = 'running', attempt = attempt + 1, lease_until = ?, started_at = ?
       WHERE id = ? AND status = 'queued' RETURNING *`,
    );
    const attempt = this.prepare(
      'INSERT OR REPLACE INTO invocation_attempts (invocation_id, attempt, started_at) VALUES (?, ?, ?)',
    );
    return this.transaction(() => {
      const out: ClaimedRun[] = [];
      for (const c of chosen) {
        const row = update.get(o.leaseUntil(String(c.function)), o.now, String(c.id)) as Row | undefined;
        if (!row) continue;
        attempt.run(String(row.id), Number(row.attempt), o.now);
        out.push(toClaimed(row));
      }
      return out;
    });
  }

  finishRun(run: ClaimedRun, r: RunResult, next: RunNext): boolean {
    return this.transaction(() => this.recordRun(run, r, next));
  }

  finishRuns(items: readonly { run: ClaimedRun; result: RunResult; next: RunNext }[]): void {
    this.transaction(() => {
      for (const i of items) this.recordRun(i.run, i.result, i.next);
    });
  }

  private recordRun(run: ClaimedRun, r: RunResult, next: RunNext): boolean {
    const terminal = next.status !== 'queued';
    const res = this.prepare(
      `UPDATE invocations SET status = ?, version = ?, status_code = ?, outcome = ?, cold = ?, started_at = ?, finished_at = ?,
         duration_ms = ?, response_headers = ?, response_body = ?, response_truncated = ?, error = ?, run_at = ?, lease_until = NULL,
         callback_state = CASE WHEN ? AND callback_url IS NOT NULL THEN 'pending' ELSE callback_state END,
         callback_next_at = CASE WHEN ? AND callback_url IS NOT NULL THEN ? ELSE callback_next_at END,
         callback_attempts = CASE WHEN ? AND callback_url IS NOT NULL THEN 0 ELSE callback_attempts END,
         request_truncated = CASE WHEN ? = 'succeeded' AND bodies_kept = 1 AND length(request_body) > ? THEN 1 ELSE request_truncated END,
         request_body = CASE WHEN ? != 'succeeded' THEN request_body WHEN bodies_kept = 0 THEN NULL
           WHEN length(request_body) > ? THEN substr(request_body, 1, ?) ELSE request_body END
       WHERE id = ? AND attempt = ? AND status = 'running'`,
    ).run(
      next.status,
      r.version,
      r.statusCode,
      r.outcome,
      r.cold ? 1 : 0,
      r.startedAt,
      r.finishedAt,
      r.finishedAt - r.startedAt,
      JSON.stringify(r.responseHeaders),
      r.responseBody,
      r.responseTruncated ? 1 : 0,
      r.error ? JSON.stringify(r.error) : null,
      next.status === 'queued' ? next.runAt : null,
      terminal ? 1 : 0,
      terminal ? 1 : 0,
      r.finishedAt,
      terminal ? 1 : 0,
      next.status,
      r.keepRequestBytes,
      next.status,
      r.keepRequestBytes,
      r.keepRequestBytes,
      run.id,
      run.attempt,
    );
    this.prepare(
      `UPDATE invocation_attempts SET version = ?, started_at = ?, finished_at = ?, duration_ms = ?, status_code = ?, outcome = ?,
         cold = ?, error = ? WHERE invocation_id = ? AND attempt = ?`,
    ).run(
      r.version,
      r.startedAt,
      r.finishedAt,
      r.finishedAt - r.startedAt,
      r.statusCode,
      r.outcome,
      r.cold ? 1 : 0,
      r.error?.code ?? null,
      run.id,
      run.attempt,
    );
    return Number(res.changes) === 1;
  }

  release(id: string, attempt: number, runAt: number): void {
    this.transaction(() => {
      const res = this.prepare(
        `UPDATE invocations SET status = 'queued', attempt = attempt - 1, run_at = ?, lease_until = NULL
         WHERE id = ? AND attempt = ? AND status = 'running'`,
      ).run(runAt, id, attempt);
      if (Number(res.changes) === 1)
        this.prepare('DELETE FROM invocation_attempts WHERE invocation_id = ? AND attempt = ?').run(
          id,
          attempt,
        );
    });
  }

  recoverRunning(now: number, onlyExpired: boolean): number {
    return this.transaction(() => {
      const rows = this.prepare(
        `UPDATE invocations SET status = 'queued', run_at = ?, lease_until = NULL, max_attempts = MAX(max_attempts, attempt + 1)
         WHERE status = 'running' AND (? = 0 OR lease_until < ?) RETURNING id, attempt`,
      ).all(now, onlyExpired ? 1 : 0, now) as Row[];
      const mark = this.prepare(
        `UPDATE invocation_attempts SET outcome = 'interrupted', error = 'server_stopped' WHERE invocation_id = ? AND attempt = ? AND finished_at IS NULL`,
      );
      for (const r of rows) mark.run(String(r.id), Number(r.attempt));
      return rows.length;
    });
  }

  redrive(id: string, now: number, extraAttempts: number): InvocationRecord | undefined {
    const row = this.prepare(
      `UPDATE invocations SET status = 'queued', run_at = ?, max_attempts = attempt + ?, callback_state = NULL,
         callback_attempts = 0, callback_next_at = NULL, callback_error = NULL
       WHERE id = ? AND status IN ('failed', 'dead') AND trigger != 'http' RETURNING *`,
    ).get(now, extraAttempts, id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  dueCallbacks(now: number, limit: number, excludeDestinations: readonly string[] = []): CallbackJob[] {
    const rows = this.prepare(
      `SELECT id, callback_url, task_token, callback_attempts FROM invocations
       WHERE callback_state = 'pending' AND callback_next_at <= ?
         AND (callback_dest IS NULL OR callback_dest NOT IN (SELECT value FROM json_each(?)))
       ORDER BY callback_next_at LIMIT ?`,
    ).all(now, JSON.stringify(excludeDestinations), limit) as Row[];
    return rows.map((r) => ({
      id: String(r.id),
      url: String(r.callback_url),
      taskToken: r.task_token === null ? null : String(r.task_token),
      attempts: Number(r.callback_attempts),
    }));
  }

  updateCallback(
    id: string,
    state: 'pending' | 'delivered' | 'failed',
    attempts: number,
    nextAt: number | null,
    error: string | null,
  ): void {
    this.prepare(
      'UPDATE invocations SET callback_state = ?, callback_attempts = ?, callback_next_at = ?, callback_error = ? WHERE id = ?',
    ).run(state, attempts, nextAt, error, id);
  }

  recordDelivery(id: string, d: CallbackDelivery): void {
    this.prepare(
      `INSERT INTO callback_deliveries (invocation_id, attempt, started_at, duration_ms, outcome, status_code, error)
       SELECT id, ?, ?, ?, ?, ?, ? FROM invocations WHERE id = ?`,
    ).run(d.attempt, d.startedAt, d.durationMs, d.outcome, d.statusCode, d.error, id);
  }

  deliveries(id: string): CallbackDelivery[] {
    const rows = this.prepare('SELECT * FROM callback_deliveries WHERE invocation_id = ? ORDER BY id').all(
      id,
    ) as Row[];
    return rows.map((r) => ({
      attempt: Number(r.attempt),
      startedAt: Number(r.started_at),
      durationMs: Number(r.duration_ms),
      outcome: String(r.outcome) as DeliveryOutcome,
      statusCode: num(r.status_code),
      error: r.error === null ? null : String(r.error),
    }));
  }

  get(id: string): InvocationRecord | undefined {
    const row = this.prepare('SELECT * FROM invocations WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  attempts(id: string): AttemptRecord[] {
    return (
      this.prepare('SELECT * FROM invocation_attempts WHERE invocation_id = ? ORDER BY attempt').all(
        id,
      ) as Row[]
    ).map((r) => ({
      invocationId: String(r.invocation_id),
      attempt: Number(r.attempt),
      version: num(r.version),
      startedAt: Number(r.started_at),
      finishedAt: num(r.finished_at),
      durationMs: num(r.duration_ms),
      statusCode: num(r.status_code),
      outcome: r.outcome === null ? null : (String(r.outcome) as Outcome),
      cold: r.cold === null ? null : Number(r.cold) === 1,
      error: r.error === null ? null : String(r.error),
    }));
  }

  logs(id: string, limit: number): LogLine[] {
    const rows = this.prepare('SELECT * FROM logs WHERE invocation_id = ? ORDER BY id LIMIT ?').all(
      id,
      limit,
    ) as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      time: Number(r.time),
      function: String(r.function),
      version: Number(r.version),
      invocationId: String(r.invocation_id),
      stream: String(r.stream) as LogLine['stream'],
      line: String(r.line),
    }));
  }

  list(q: HistoryQuery): InvocationRecord[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    const add = (clause: string, value: SQLInputValue | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('function = ?', q.function);
    add('status = ?', q.status);
    add('trigger = ?', q.trigger);
    add('created_at >= ?', q.since);
    add('created_at < ?', q.before);
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM invocations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.prepare(sql).all(...args, q.limit) as Row[]).map(toRecord);
  }

  statsSamples(since: number, fn: string | undefined, limit: number): StatsSample[] {
    const rows = this.prepare(
      `SELECT function, created_at, status, duration_ms, cold FROM invocations
       WHERE created_at >= ? AND status IN ${TERMINAL_SQL} AND duration_ms IS NOT NULL AND (? IS NULL OR function = ?)
       ORDER BY created_at DESC LIMIT ?`,
    ).all(since, fn ?? null, fn ?? null, limit) as Row[];
    return rows.map((r) => ({
      function: String(r.function),
      createdAt: Number(r.created_at),
      status: String(r.status) as StatsSample['status'],
      durationMs: Number(r.duration_ms),
      cold: Number(r.cold) === 1,
    }));
  }

  statsBuckets(fn: string, start: number, step: number): StatsBucketRow[] {
    // One row of three texts from the covering index invocations_function_stats: handing 10⁵
    // rows to JavaScript one by one cost ~3 µs each, GROUP BY sorted them; this streams and
    // costs a tenth. Per invocation: its bucket, a flag (1 error, 2 cold start), its duration.
    const row = this.prepare(
      `SELECT group_concat(CAST((created_at - ?) / ? AS INTEGER)), group_concat((status <> 'succeeded') + 2 * coalesce(cold, 0)),
         group_concat(duration_ms)
       FROM invocations WHERE function = ? AND created_at >= ? AND status IN ${TERMINAL_SQL} AND duration_ms IS NOT NULL`,
    );
    row.setReturnArrays(true);
    const from = Math.floor(start);
    const [indexes, flags, durations] = (
      row.get(from, Math.floor(step), fn, from) as unknown as (string | null)[]
    ).map((text) => (text ? text.split(',').map(Number) : []));
    const buckets = new Map<number, StatsBucketRow>();
    indexes?.forEach((index, i) => {
      let b = buckets.get(index);
      if (!b) buckets.set(index, (b = { index, count: 0, errors: 0, coldStarts: 0, durations: [] }));
      const flag = flags?.[i] ?? 0;
      b.count++;
      b.errors += flag & 1;
      b.coldStarts += flag >> 1;
      b.durations.push(durations?.[i] ?? 0);
    });
    return [...buckets.values()];
  }

  queueDepth(): QueueDepth[] {
    const rows = this.prepare(
      // Two reads of the partial indexes of queued and running rows, not a scan of the whole history.
      `SELECT function, SUM(q) AS queued, SUM(r) AS running FROM (
         SELECT function, 1 AS q, 0 AS r FROM invocations WHERE status = 'queued'
         UNION ALL SELECT function, 0, 1 FROM invocations WHERE status = 'running')
       GROUP BY function ORDER BY function`,
    ).all() as Row[];
    return rows.map((r) => ({
      function: String(r.function),
      queued: Number(r.queued),
      running: Number(r.running),
    }));
  }

  oldestReady(now: number): number | undefined {
    const row = this.prepare(
      "SELECT MIN(run_at) AS t FROM invocations WHERE status = 'queued' AND run_at <= ?",
    ).get(now) as Row | undefined;
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
  }

  activeForSchedule(scheduleId: string): number {
    const row = this.prepare(
      "SELECT COUNT(*) AS n FROM invocations WHERE schedule_id = ? AND status IN ('queued', 'running')",
    ).get(scheduleId) as Row;
    return Number(row.n);
  }

  prune(maxPerFunction: number, olderThan: number, functions?: readonly string[]): Pruned {
    return this.transaction(() => {
      const pruned = this.dropRows(
        this.prepare(
          `DELETE FROM invocations WHERE created_at < ? AND status IN ${TERMINAL_SQL} RETURNING id, ${BODY_BYTES} AS bytes`,
        ).all(olderThan) as Row[],
      );
      const names =
        functions ??
        (this.prepare('SELECT DISTINCT function FROM invocations').all() as Row[]).map((r) =>
          String(r.function),
        );
      for (const fn of names) {
        const cut = this.prepare(
          `SELECT created_at FROM invocations WHERE function = ? ORDER BY created_at DESC LIMIT 1 OFFSET ?`,
        ).get(fn, maxPerFunction) as Row | undefined;
        if (!cut) continue;
        const more = this.dropRows(
          this.prepare(
            `DELETE FROM invocations WHERE function = ? AND created_at <= ? AND status IN ${TERMINAL_SQL}
             RETURNING id, ${BODY_BYTES} AS bytes`,
          ).all(fn, Number(cut.created_at)) as Row[],
        );
        pruned.removed += more.removed;
        pruned.bytes += more.bytes;
      }
      return pruned;
    });
  }

  pruneOldest(limit: number): Pruned {
    return this.transaction(() =>
      this.dropRows(
        this.prepare(
          `DELETE FROM invocations WHERE rowid IN (
             SELECT rowid FROM invocations WHERE status IN ${TERMINAL_SQL} ORDER BY created_at, rowid LIMIT ?)
           RETURNING id, ${BODY_BYTES} AS bytes`,
        ).all(limit) as Row[],
      ),
    );
  }

  bodyBytes(): number {
    const row = this.prepare(
      `SELECT SUM(${BODY_BYTES}) AS n FROM invocations WHERE status IN ${TERMINAL_SQL}`,
    ).get() as Row | undefined;
    return Number(row?.n ?? 0);
  }

  /** Removes the attempts of deleted invocations; counts them and their body bytes. */
  private dropRows(rows: Row[]): Pruned {
    const deleteAttempts = this.prepare('DELETE FROM invocation_attempts WHERE invocation_id = ?');
    let bytes = 0;
    for (const r of rows) {
      deleteAttempts.run(String(r.id));
      bytes += Number(r.bytes ?? 0);
    }
    return { removed: rows.length, bytes };
  }

  listSchedules(fn?: string): ScheduleRecord[] {
    const rows = (
      fn === undefined
        ? this.prepare('SELECT * FROM schedules ORDER BY function, created_at, id').all()
        : this.prepare('SELECT * FROM schedules WHERE function = ? ORDER BY created_at, id').all(fn)
    ) as Row[];
    return rows.map(toSchedule);
  }

  getSchedule(id: string): ScheduleRecord | undefined {
    const row = this.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined;
    return row ? toSchedule(row) : undefined;
  }

  putSchedule(s: ScheduleRecord): void {
    this.prepare(
      `INSERT OR REPLACE INTO schedules (id, function, source, cron, tz, data, overlap, catchup, created_at, last_tick_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(s.id, s.function, s.source, s.cron, s.tz, s.data, s.overlap, s.catchup, s.createdAt, s.lastTickAt);
  }

  deleteSchedule(id: string): boolean {
    return Number(this.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes) === 1;
  }

  replaceManifestSchedules(fn: string, schedules: ScheduleRecord[]): void {
    this.transaction(() => {
      const old = new Map(
        this.listSchedules(fn)
          .filter((s) => s.source === 'manifest')
          .map((s) => [s.id, s]),
      );
      this.prepare("DELETE FROM schedules WHERE function = ? AND source = 'manifest'").run(fn);
      for (const s of schedules) {
        const before = old.get(s.id);
        // An unchanged schedule keeps its last tick, so a redeploy does not look like downtime.
        const same = before && before.cron === s.cron && before.tz === s.tz;
        this.putSchedule(same ? { ...s, createdAt: before.createdAt, lastTickAt: before.lastTickAt } : s);
      }
    });
  }

  deleteFunctionSchedules(fn: string): number {
    return Number(this.prepare('DELETE FROM schedules WHERE function = ?').run(fn).changes);
  }

  markTick(id: string, at: number): void {
    this.prepare('UPDATE schedules SET last_tick_at = ? WHERE id = ?').run(at, id);
  }
}

function bool(v: boolean | null): number | null {
  return v === null ? null : v ? 1 : 0;
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function buf(v: unknown): Buffer | null {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : null;
}

function json<T>(v: unknown): T | null {
  return v === null || v === undefined ? null : (JSON.parse(String(v)) as T);
}

function toClaimed(r: Row): ClaimedRun {
  return {
    id: String(r.id),
    function: String(r.function),
    trigger: String(r.trigger) as ClaimedRun['trigger'],
    attempt: Number(r.attempt),
    maxAttempts: Number(r.max_attempts),
    createdAt: Number(r.created_at),
    runAt: Number(r.run_at),
    request: JSON.parse(String(r.request)) as ClaimedRun['request'],
    body: buf(r.request_body) ?? Buffer.alloc(0),
    scheduleId: r.schedule_id === null ? null : String(r.schedule_id),
    serialKey: r.serial_key === null ? null : String(r.serial_key),
    hasCallback: r.callback_url !== null,
    bodiesKept: Number(r.bodies_kept) === 1,
  };
}

function toRecord(r: Row): InvocationRecord {
  return {
    id: String(r.id),
    function: String(r.function),
    version: num(r.version),
    trigger: String(r.trigger) as InvocationRecord['trigger'],
    status: String(r.status) as InvocationRecord['status'],
    attempt: Number(r.attempt),
    maxAttempts: Number(r.max_attempts),
    statusCode: num(r.status_code),
    outcome: r.outcome === null ? null : (String(r.outcome) as Outcome),
    cold: r.cold === null ? null : Number(r.cold) === 1,
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    durationMs: num(r.duration_ms),
    runAt: num(r.run_at),
    scheduleId: r.schedule_id === null ? null : String(r.schedule_id),
    request: JSON.parse(String(r.request)) as InvocationRecord['request'],
    requestBody: buf(r.request_body),
    requestTruncated: Number(r.request_truncated) === 1,
    responseHeaders: json<Record<string, string>>(r.response_headers),
    responseBody: buf(r.response_body),
    responseTruncated: Number(r.response_truncated) === 1,
    error: json<{ code: string; message: string }>(r.error),
    bodiesKept: Number(r.bodies_kept) === 1,
    callback:
      r.callback_url === null || r.callback_url === undefined
        ? null
        : {
            url: String(r.callback_url),
            taskToken: r.task_token === null ? null : String(r.task_token),
            state: (r.callback_state === null ? 'pending' : String(r.callback_state)) as
              'pending' | 'delivered' | 'failed',
            attempts: Number(r.callback_attempts),
            nextAt: num(r.callback_next_at),
            lastError: r.callback_error === null ? null : String(r.callback_error),
          },
  };
}

function toSchedule(r: Row): ScheduleRecord {
  return {
    id: String(r.id),
    function: String(r.function),
    source: String(r.source) as ScheduleRecord['source'],
    cron: String(r.cron),
    tz: r.tz === null ? null : String(r.tz),
    data: r.data === null ? null : String(r.data),
    overlap: String(r.overlap) as ScheduleRecord['overlap'],
    catchup: String(r.catchup) as ScheduleRecord['catchup'],
    createdAt: Number(r.created_at),
    lastTickAt: num(r.last_tick_at),
  };
}
