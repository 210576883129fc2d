/**
 * The one registry of user-visible errors. Every error a client can see has a stable snake_case
 * code, an HTTP status and a message; the README lists them all ("Errors").
 */

/** Every code, its HTTP status and a one-line description for the docs. */
export const ERROR_CODES = {
  bad_request: { status: 400, doc: 'The request is malformed (a field, header or parameter is wrong).' },
  invalid_manifest: {
    status: 400,
    doc: 'kumo.yaml or a deploy flag is invalid; the message names the field.',
  },
  invalid_name: { status: 400, doc: 'A function name is not a DNS label (a-z, 0-9, "-", 1-63 chars).' },
  invalid_archive: {
    status: 400,
    doc: 'The uploaded bundle is not a safe tar.gz (.. paths, absolute paths, links leaving it, devices).',
  },
  unknown_handler: { status: 400, doc: 'The handler file does not exist or exports no recognised handler.' },
  invalid_alias: {
    status: 400,
    doc: 'An alias name or its routing is invalid (name rules, a weight outside 0-1, a version that does not exist); the message says which.',
  },
  invalid_route: {
    status: 400,
    doc: 'An API route (a SAM Api/HttpApi event) has a method or path kumo cannot serve; the message names the route and why.',
  },
  invalid_schedule: {
    status: 400,
    doc: 'A schedule is invalid (cron expression, time zone, overlap or catch-up policy); the message names the field.',
  },
  callback_not_allowed: {
    status: 400,
    doc: 'X-Callback-Url is not http(s), not on the --callback-allow list, or points at a cloud metadata or link-local address.',
  },
  unauthorized: {
    status: 401,
    doc: 'An API key is required (`Authorization: Bearer KEY`) and was missing, unknown or revoked.',
  },
  invalid_signature: {
    status: 403,
    doc: 'A Lambda API request (AWS Signature Version 4) has a wrong, stale (more than 15 minutes off) or malformed signature.',
  },
  unrecognized_client: {
    status: 403,
    doc: 'A Lambda API request is signed with an AWS access key id kumo does not know, or whose kumo key was revoked.',
  },
  plugin_not_allowed: {
    status: 403,
    doc: 'The function called a plugin its manifest does not list under "plugins:".',
  },
  forbidden: {
    status: 403,
    doc: 'The API key is valid but lacks the scope for this action; the message names the scope needed.',
  },
  function_not_found: { status: 404, doc: 'No function of that name is deployed.' },
  plugin_not_found: {
    status: 404,
    doc: 'The function lists or calls a plugin this server does not have (built in: kv, docs).',
  },
  version_not_found: { status: 404, doc: 'The function has no such version.' },
  alias_not_found: {
    status: 404,
    doc: 'The function has no alias of that name (see kumo alias NAME), or the alias points at a version that is gone.',
  },
  invocation_not_found: {
    status: 404,
    doc: 'No invocation has that id (never existed, or removed by history retention).',
  },
  schedule_not_found: { status: 404, doc: 'The function has no schedule with that id.' },
  key_not_found: { status: 404, doc: 'No API key has that id (see kumo keys list).' },
  secret_not_found: {
    status: 404,
    doc: 'The function has no secret of that name (see kumo secrets list NAME).',
  },
  route_not_found: { status: 404, doc: 'No route matches this method and path.' },
  method_not_allowed: { status: 405, doc: 'The route exists but not for this method.' },
  plugin_error: {
    status: 400,
    doc: 'A plugin call was refused: unknown action or a payload of the wrong shape; the message says which.',
  },
  plugin_quota_exceeded: {
    status: 413,
    doc: "A kv set or docs insert would take the function's data past its quota (`kv.keys`/`kv.size`, `docs.documents`/`docs.size`); nothing was stored.",
  },
  docs_query_too_large: {
    status: 413,
    doc: 'A docs query or delete would examine more documents than `kumo up --docs-scan-limit`, or answer more than 8 MB; narrow it or lower its limit.',
  },
  plugin_busy: {
    status: 429,
    doc: 'The function already has `kumo up --plugin-queue` docs queries waiting; retry when some have finished.',
  },
  route_conflict: {
    status: 409,
    doc: 'An API route (METHOD /path) is already served by another function; delete that function or change the path.',
  },
  conflict: {
    status: 409,
    doc: 'The action conflicts with the current state (e.g. rollback to the active version).',
  },
  payload_too_large: {
    status: 413,
    doc: 'The request body is over the limit (6 MB for invocations, 50 MB for uploads by default).',
  },
  request_timeout: {
    status: 408,
    doc: 'The request headers or body did not arrive in time (`kumo up --headers-timeout`, default 10 s; `--request-timeout`, default 30 s); the connection is closed.',
  },
  uri_too_long: {
    status: 414,
    doc: 'The request URL is longer than the limit (8 KiB by default, `kumo up --url-limit`).',
  },
  source_failed: {
    status: 422,
    doc: 'The git repository could not be cloned at that ref, or its tree breaks the bundle rules (a symlink leaving it).',
  },
  build_failed: {
    status: 422,
    doc: 'The build step failed; the previous version keeps serving. The build log is attached.',
  },
  over_capacity: { status: 429, doc: 'Every instance is busy and the wait queue is full.' },
  queue_full: {
    status: 429,
    doc: "The function's async queue (`kumo up --queue-max`, default 1,000) or the server's (`--queue-max-total`, default 10,000) is full; retry after the Retry-After seconds. Nothing accepted before is dropped.",
  },
  rate_limited: {
    status: 429,
    doc: 'Too many requests for this API key (control plane) or this function (invocations); wait for the Retry-After seconds.',
  },
  headers_too_large: {
    status: 431,
    doc: 'The request headers are larger than the limit (16 KiB by default, `kumo up --header-limit`).',
  },
  internal_error: { status: 500, doc: 'A bug in kumo; the server log has the details.' },
  memory_limit_exceeded: {
    status: 500,
    doc: 'The instance went over its memory limit and was killed; the next request gets a fresh one.',
  },
  process_limit_exceeded: {
    status: 500,
    doc: 'The invocation failed after the instance hit its process limit (`maxProcesses`); the instance is replaced.',
  },
  tmp_limit_exceeded: {
    status: 500,
    doc: 'The invocation failed after the instance filled its private `/tmp` or `/dev/shm` (`tmpSize`); the instance is replaced.',
  },
  handler_error: { status: 500, doc: 'The function threw or returned an invalid value.' },
  response_too_large: {
    status: 502,
    doc: 'The function answered with more than the response limit (20 MB by default); the connection is cut when the body was already streaming.',
  },
  upgrade_not_supported: {
    status: 502,
    doc: 'The function answered 101 Switching Protocols (a WebSocket upgrade); kumo does not proxy upgraded connections, so the call ends and the instance is replaced.',
  },
  instance_failed_to_start: {
    status: 502,
    doc: 'A new instance did not start or did not become ready in time.',
  },
  instance_crashed: {
    status: 502,
    doc: 'The instance exited while handling the request; the next request gets a fresh one.',
  },
  sandbox_unavailable: {
    status: 503,
    doc: 'This host cannot build the sandbox; kumo doctor says what to install.',
  },
  shutting_down: { status: 503, doc: 'The server is stopping and accepts no new work.' },
  server_busy: {
    status: 503,
    doc: "Request bodies held in memory are at the server's budget (`kumo up --body-budget`, default 64 MB); retry after the Retry-After seconds.",
  },
  deploy_busy: {
    status: 503,
    doc: 'As many deploys as the server runs at once are unpacking or building (`kumo up --deploy-concurrency`, default 2); retry after the Retry-After seconds.',
  },
  secrets_unavailable: {
    status: 503,
    doc: 'The function has secrets but the master key that sealed them is missing or different (see README "Access control").',
  },
  store_unavailable: {
    status: 503,
    doc: 'The PostgreSQL store (`kumo up --store`) cannot be reached or refused the connection; the message names its host, port and database (never the password).',
  },
  build_unavailable: {
    status: 503,
    doc: "This node could not fetch the function's built code from the shared store (several nodes on PostgreSQL, docs/scale-out.md); it tries again at the next change or poll. Retry, or call another node.",
  },
  deadline_exceeded: {
    status: 504,
    doc: 'The function ran past its timeout; the instance was killed and replaced.',
  },
} as const satisfies Record<string, { status: number; doc: string }>;

/** A stable error code, as listed in ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error a user can see: a stable code, its HTTP status, a message saying what to do. */
export class KumoError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    // No stack: a KumoError is an answer to a client, not a bug, and capturing a stack costs
    // ~15 µs, a third of the cost of refusing a request under a 429 flood.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'KumoError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }

  /** The JSON body sent to clients. */
  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** Whether `code` is one of ours (for clients reading error bodies). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Turns anything thrown into a KumoError, keeping ours and hiding the rest behind internal_error. */
export function toKumoError(err: unknown): KumoError {
  if (err instanceof KumoError) return err;
  return new KumoError('internal_error', 'internal error: see the server log');
}
