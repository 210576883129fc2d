/**
 * Row conversions every store backend shares: a row is a record of its snake_case columns, as the
 * SQLite and PostgreSQL drivers return them (numbers possibly as numbers or numeric text, booleans
 * as 0/1 or true/false, JSON payloads as text, bodies as bytes).
 */
import {
  isScope,
  type AliasRecord,
  type ApiKeyRecord,
  type ApiRouteRecord,
  type AttemptRecord,
  type AuditEntry,
  type AuditOutcome,
  type CallbackDelivery,
  type DeliveryOutcome,
  type FunctionRecord,
  type FunctionSpec,
  type InvocationRecord,
  type LogLine,
  type Outcome,
  type ScheduleRecord,
  type Scope,
  type SecretRecord,
  type VersionRecord,
} from '../core/index.ts';
import type { VersionSource } from './functions.ts';
import type { AwsCredentialRecord } from './aliases.ts';
import type { StatsSample } from './invocations.ts';
import type { ClaimedRun } from './queue.ts';

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** Invocations in a terminal state (history; the queue is done with them). */
export const TERMINAL_SQL = "('succeeded', 'failed', 'dead')";

/** A nullable number column. */
export function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A BLOB (bytea) column as a Buffer (sharing its memory), or null. */
export function buf(v: unknown): Buffer | null {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : null;
}

/** A nullable JSON text column, parsed. */
export function json<T>(v: unknown): T | null {
  return v === null || v === undefined ? null : (JSON.parse(String(v)) as T);
}

/** A row of `invocations` as an InvocationRecord (bodies null when not selected). */
export function toRecord(r: Row): InvocationRecord {
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
    cold: flag(r.cold),
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    durationMs: num(r.duration_ms),
    runAt: num(r.run_at),
    scheduleId: r.schedule_id === null ? null : String(r.schedule_id),
    request: JSON.parse(String(r.request)) as InvocationRecord['request'],
    requestBody: buf(r.request_body),
    requestTruncated: flag(r.request_truncated) === true,
    responseHeaders: json<Record<string, string>>(r.response_headers),
    responseBody: buf(r.response_body),
    responseTruncated: flag(r.response_truncated) === true,
    error: json<{ code: string; message: string }>(r.error),
    bodiesKept: flag(r.bodies_kept) === true,
    alias: text(r.alias),
    node: text(r.node),
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

/** A nullable boolean column (0/1 or true/false). */
export function flag(v: unknown): boolean | null {
  return v === null || v === undefined ? null : v === true || Number(v) === 1;
}

/** A nullable text column. */
export function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A row of `functions`. */
export function toFunction(r: Row): FunctionRecord {
  return {
    name: String(r.name),
    activeVersion: Number(r.active_version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** A row of `versions`. */
export function toVersion(r: Row): VersionRecord {
  return {
    function: String(r.function),
    version: Number(r.version),
    hash: String(r.hash),
    bundleHash: String(r.bundle_hash),
    spec: JSON.parse(String(r.spec)) as FunctionSpec,
    buildDir: String(r.build_dir),
    buildLog: String(r.build_log),
    createdAt: Number(r.created_at),
  };
}

/** A row of `version_sources`. */
export function toSource(r: Row): VersionSource {
  return {
    function: String(r.function),
    version: Number(r.version),
    kind: String(r.kind) as VersionSource['kind'],
    repository: r.repository === null ? null : String(r.repository),
    ref: r.ref === null ? null : String(r.ref),
    commit: r.commit_hash === null ? null : String(r.commit_hash),
  };
}

/** A row of `logs` as a LogLine. */
export function toLogLine(r: Row): LogLine {
  return {
    id: Number(r.id),
    time: Number(r.time),
    function: String(r.function),
    version: Number(r.version),
    invocationId: r.invocation_id === null ? null : String(r.invocation_id),
    stream: String(r.stream) as LogLine['stream'],
    line: String(r.line),
  };
}

/** A row of `invocation_attempts`. */
export function toAttempt(r: Row): AttemptRecord {
  return {
    invocationId: String(r.invocation_id),
    attempt: Number(r.attempt),
    version: num(r.version),
    startedAt: Number(r.started_at),
    finishedAt: num(r.finished_at),
    durationMs: num(r.duration_ms),
    statusCode: num(r.status_code),
    outcome: r.outcome === null ? null : (String(r.outcome) as Outcome),
    cold: flag(r.cold),
    error: text(r.error),
    node: text(r.node),
  };
}

/** A row of `callback_deliveries`. */
export function toDelivery(r: Row): CallbackDelivery {
  return {
    attempt: Number(r.attempt),
    startedAt: Number(r.started_at),
    durationMs: Number(r.duration_ms),
    outcome: String(r.outcome) as DeliveryOutcome,
    statusCode: num(r.status_code),
    error: text(r.error),
  };
}

/** A finished invocation's figures (function, created_at, status, duration_ms, cold). */
export function toStatsSample(r: Row): StatsSample {
  return {
    function: String(r.function),
    createdAt: Number(r.created_at),
    status: String(r.status) as StatsSample['status'],
    durationMs: Number(r.duration_ms),
    cold: flag(r.cold) === true,
  };
}

/** A row of `invocations` claimed by a worker. */
export function toClaimed(r: Row): ClaimedRun {
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
    bodiesKept: flag(r.bodies_kept) === true,
    alias: text(r.alias),
  };
}

/** A row of `api_keys`. */
export function toKey(r: Row): ApiKeyRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    scopes: String(r.scopes)
      .split(',')
      .filter((s): s is Scope => isScope(s)),
    hash: String(r.hash),
    createdAt: Number(r.created_at),
    createdBy: r.created_by === null ? null : String(r.created_by),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

/** A row of `secrets` without its ciphertext. */
export function toSecretMeta(r: Row): Omit<SecretRecord, 'ciphertext'> {
  return {
    function: String(r.function),
    name: String(r.name),
    keyId: String(r.key_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** A row of `schedules`. */
export function toSchedule(r: Row): ScheduleRecord {
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

/** A row of `audit_log`. */
export function toAuditEntry(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    time: Number(r.time),
    keyId: r.key_id === null ? null : String(r.key_id),
    keyName: r.key_name === null ? null : String(r.key_name),
    method: String(r.method),
    path: String(r.path),
    route: String(r.route),
    scope: String(r.scope),
    function: r.function === null ? null : String(r.function),
    status: Number(r.status),
    outcome: String(r.outcome) as AuditOutcome,
    remote: r.remote === null ? null : String(r.remote),
    durationMs: Number(r.duration_ms),
  };
}

/** A row of `aliases`. */
export function toAlias(r: Row): AliasRecord {
  const canary = num(r.canary_version);
  return {
    function: String(r.function),
    name: String(r.name),
    version: Number(r.version),
    canary: canary === null ? null : { version: canary, weight: Number(r.canary_weight) },
    description: String(r.description),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** A row of `api_routes`. */
export function toApiRoute(r: Row): ApiRouteRecord {
  return {
    method: String(r.method),
    path: String(r.path),
    function: String(r.function),
    createdAt: Number(r.created_at),
  };
}

/** A row of `aws_credentials`. */
export function toAwsCredential(r: Row): AwsCredentialRecord {
  return {
    accessKeyId: String(r.access_key_id),
    keyId: String(r.key_id),
    // A driver's Uint8Array as a Buffer; the column is NOT NULL.
    secretCiphertext: buf(r.secret) ?? Buffer.alloc(0),
    boxKeyId: String(r.box_key_id),
    createdAt: Number(r.created_at),
  };
}
