/** The shapes of the /api/v1 answers the console reads (see docs/http-api.md). */

/** A row of GET /overview. */
export interface OverviewFunction {
  name: string;
  runtime: string | null;
  access: string | null;
  activeVersion: number;
  updatedAt: number;
  instances: { total: number; busy: number };
  count: number;
  errors: number;
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
  coldStarts: number;
  coldShare: number;
  spark: number[];
}

/** GET /overview. */
export interface Overview {
  since: number;
  until: number;
  step: number;
  functions: OverviewFunction[];
}

/** GET /functions/NAME. */
export interface FunctionInfo {
  name: string;
  activeVersion: number;
  versions: number;
  runtime: string;
  url: string;
  path: string;
  createdAt: number;
  updatedAt: number;
  instances: { total: number; busy: number; starting: number; waiting: number };
  spec: Record<string, unknown> & { env?: Record<string, string>; access?: string };
}

/** One bucket of GET /functions/NAME/stats/buckets. */
export interface Bucket {
  start: number;
  count: number;
  errors: number;
  p50: number;
  p95: number;
  coldStarts: number;
  instances: number;
}

/** GET /functions/NAME/versions. */
export interface Versions {
  activeVersion: number;
  versions: {
    version: number;
    hash: string;
    createdAt: number;
    active: boolean;
    source?: { kind: string; repository?: string; ref?: string; commit?: string };
  }[];
}

/** A schedule. */
export interface Schedule {
  id: string;
  source: string;
  cron: string;
  tz: string;
  overlap: string;
  catchup: string;
  lastTickAt: number | null;
  next: number[];
}

/** An invocation in a listing. */
export interface InvocationSummary {
  id: string;
  function: string;
  version: number | null;
  trigger: string;
  status: string;
  attempt: number;
  maxAttempts: number;
  statusCode: number | null;
  outcome: string | null;
  cold: boolean | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  nextRunAt: number | null;
  scheduleId: string | null;
  error: { code: string; message: string } | null;
  callback: { url: string; state: string; attempts: number; lastError: string | null } | null;
}

/** A request or response body as the history keeps it. */
export interface RecordedBody {
  headers: Record<string, string>;
  body: string | null;
  encoding: 'utf8' | 'base64' | null;
  size: number | null;
  truncated: boolean;
}

/** GET /invocations/ID. */
export interface InvocationDetail extends InvocationSummary {
  bodies: boolean;
  request: RecordedBody & { method: string; path: string };
  response: RecordedBody | null;
  attempts: {
    attempt: number;
    version: number | null;
    startedAt: number;
    finishedAt: number | null;
    durationMs: number | null;
    statusCode: number | null;
    outcome: string | null;
    cold: boolean | null;
    error: string | null;
  }[];
  logs: { time: number; stream: string; line: string }[];
}

/** A function log line. */
export interface LogLine {
  time: number;
  function: string;
  version: number;
  invocationId: string | null;
  stream: string;
  line: string;
}

/** An API key as listed (never the key itself). */
export interface KeyInfo {
  id: string;
  name: string;
  scopes: string[];
  createdAt: number;
  createdBy: string | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** An audit entry. */
export interface AuditEntry {
  id: number;
  time: number;
  keyId: string | null;
  keyName: string | null;
  method: string;
  path: string;
  route: string;
  scope: string;
  function: string | null;
  status: number;
  outcome: string;
  remote: string | null;
  durationMs: number;
}
