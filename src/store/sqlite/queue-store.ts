/**
 * QueueStore on the server's SQLite database. Every write that changes the queue is one
 * transaction, so a crash leaves each invocation in exactly one state; WAL with
 * synchronous=NORMAL makes a commit survive a process crash. One process claims at a time (the
 * write lock of BEGIN IMMEDIATE), so a claim never hands out a run twice.
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
import { SqliteStatements } from './statements.ts';

/** SQLite durable queue. */
export class SqliteQueueStore extends SqliteStatements implements QueueStore {
  async enqueue(q: NewQueuedInvocation): Promise<boolean> {
    return this.insertQueued(q);
  }

  async enqueueMany(list: readonly NewQueuedInvocation[]): Promise<boolean[]> {
    if (list.length === 1) return [this.insertQueued(list[0] as NewQueuedInvocation)];
    return this.transaction(() => list.map((q) => this.insertQueued(q)));
  }

  /** Inserts one queued invocation; false when its tick key was taken (the partial unique index refuses it). */
  private insertQueued(q: NewQueuedInvocation): boolean {
    const res = this.prepare(
      `INSERT INTO invocations (id, function, trigger, status, attempt, max_attempts, created_at, run_at, schedule_id, serial_key,
         request, request_body, bodies_kept, callback_url, task_token, callback_dest, alias, tick_key)
       VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tick_key) WHERE tick_key IS NOT NULL DO NOTHING`,
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
      q.alias ?? null,
      q.tickKey ?? null,
    );
    return Number(res.changes) === 1;
  }

  async claim(o: ClaimOptions): Promise<ClaimedRun[]> {
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
      `UPDATE invocations SET status = 'running', attempt = attempt + 1, lease_until = ?, started_at = ?, node = ?
       WHERE id = ? AND status = 'queued' RETURNING *`,
    );
    const attempt = this.prepare(
      'INSERT OR REPLACE INTO invocation_attempts (invocation_id, attempt, started_at, node) VALUES (?, ?, ?, ?)',
    );
    const node = o.node ?? null;
    return this.transaction(() => {
      const out: ClaimedRun[] = [];
      for (const c of chosen) {
        const row = update.get(o.leaseUntil(String(c.function)), o.now, node, String(c.id)) as
          Row | undefined;
        if (!row) continue;
        attempt.run(String(row.id), Number(row.attempt), o.now, node);
        out.push(toClaimed(row));
      }
      return out;
    });
  }

  async finishRun(run: ClaimedRun, r: RunResult, next: RunNext): Promise<boolean> {
    return this.transaction(() => this.recordRun(run, r, next));
  }

  async finishRuns(items: readonly { run: ClaimedRun; result: RunResult; next: RunNext }[]): Promise<void> {
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

  async release(id: string, attempt: number, runAt: number): Promise<void> {
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

  async recoverRunning(now: number, onlyExpired: boolean): Promise<number> {
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

  async redrive(id: string, now: number, extraAttempts: number): Promise<InvocationRecord | undefined> {
    const row = this.prepare(
      `UPDATE invocations SET status = 'queued', run_at = ?, max_attempts = attempt + ?, callback_state = NULL,
         callback_attempts = 0, callback_next_at = NULL, callback_error = NULL
       WHERE id = ? AND status IN ('failed', 'dead') AND trigger != 'http' RETURNING *`,
    ).get(now, extraAttempts, id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async renewLeases(runs: readonly { id: string; attempt: number }[], until: number): Promise<string[]> {
    const renew = this.prepare(
      `UPDATE invocations SET lease_until = ? WHERE id = ? AND attempt = ? AND status = 'running'`,
    );
    return this.transaction(() =>
      runs.filter((r) => Number(renew.run(until, r.id, r.attempt).changes) === 0).map((r) => r.id),
    );
  }

  async dueCallbacks(
    now: number,
    limit: number,
    excludeDestinations: readonly string[] = [],
    claimUntil?: number,
  ): Promise<CallbackJob[]> {
    const select = () =>
      this.prepare(
        `SELECT id, callback_url, task_token, callback_attempts FROM invocations
         WHERE callback_state = 'pending' AND callback_next_at <= ?
           AND (callback_dest IS NULL OR callback_dest NOT IN (SELECT value FROM json_each(?)))
         ORDER BY callback_next_at LIMIT ?`,
      ).all(now, JSON.stringify(excludeDestinations), limit) as Row[];
    const claim = this.prepare('UPDATE invocations SET callback_next_at = ? WHERE id = ?');
    const rows =
      claimUntil === undefined
        ? select()
        : this.transaction(() => {
            const found = select();
            for (const r of found) claim.run(claimUntil, String(r.id));
            return found;
          });
    return rows.map((r) => ({
      id: String(r.id),
      url: String(r.callback_url),
      taskToken: r.task_token === null ? null : String(r.task_token),
      attempts: Number(r.callback_attempts),
    }));
  }

  async recordDelivery(id: string, d: CallbackDelivery): Promise<void> {
    this.prepare(
      `INSERT INTO callback_deliveries (invocation_id, attempt, started_at, duration_ms, outcome, status_code, error)
       SELECT id, ?, ?, ?, ?, ?, ? FROM invocations WHERE id = ?`,
    ).run(d.attempt, d.startedAt, d.durationMs, d.outcome, d.statusCode, d.error, id);
  }

  async updateCallback(
    id: string,
    state: CallbackState,
    attempts: number,
    nextAt: number | null,
    error: string | null,
  ): Promise<void> {
    this.prepare(
      'UPDATE invocations SET callback_state = ?, callback_attempts = ?, callback_next_at = ?, callback_error = ? WHERE id = ?',
    ).run(state, attempts, nextAt, error, id);
  }

  async queueDepth(): Promise<QueueDepth[]> {
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

  async oldestReady(now: number): Promise<number | undefined> {
    const row = this.prepare(
      "SELECT MIN(run_at) AS t FROM invocations WHERE status = 'queued' AND run_at <= ?",
    ).get(now) as Row | undefined;
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
  }

  async activeForSchedule(scheduleId: string): Promise<number> {
    const row = this.prepare(
      "SELECT COUNT(*) AS n FROM invocations WHERE schedule_id = ? AND status IN ('queued', 'running')",
    ).get(scheduleId) as Row;
    return Number(row.n);
  }
}
