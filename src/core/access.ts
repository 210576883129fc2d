/**
 * Access control as data: the scopes an API key can hold, the key and secret records, and the
 * audit entry. The checks themselves live in `auth/`; these shapes are shared with the store,
 * the control API and the CLI.
 */

/** The scopes of an API key (README "Access control"). `admin` grants every other one. */
export const SCOPES = ['admin', 'deploy', 'invoke', 'read'] as const;
/** A scope of an API key. */
export type Scope = (typeof SCOPES)[number];

/** What each scope allows, for help texts and `GET /api/v1/scopes`. */
export const SCOPE_DOCS: Record<Scope, string> = {
  admin: 'everything, including API keys and the audit log',
  deploy: 'deploy, delete, roll back, schedule, redrive; list, set and unset secrets (never read them)',
  invoke: 'call private functions',
  read: 'list functions, versions, logs, history, schedules, stats and metrics',
};

/**
 * What a route needs (its declaration says, `http/route.ts`): a key with a scope, any valid key
 * (`any`), nothing (`none`), or what the function decides: `function` — the function the request
 * names (path or Host) is public (nothing needed) or private (a key with `invoke`); `result` — the
 * same for the function of the invocation whose result is read, decided by the route once it has
 * read the invocation.
 */
export type Requirement = Scope | 'any' | 'none' | 'function' | 'result' | 'aws';

/** What each requirement that is not a scope means, for `GET /api/v1/scopes` and the OpenAPI document. */
export const REQUIREMENT_DOCS: Record<Exclude<Requirement, Scope>, string> = {
  any: 'any valid API key, whatever its scopes',
  none: 'nothing: public',
  function:
    "the function's access setting decides: a public function needs nothing, a private one a key with invoke",
  result:
    "as for function, for the invocation's function (decided once the invocation is read; unknown ids are 404)",
  aws: "an AWS Signature Version 4 made with a kumo key's AWS credentials (kumo keys create --aws), whose key has the operation's scope (the Lambda API; checked after the body is read, errors in Lambda's shape)",
};

/** Whether `text` names a scope. */
export function isScope(text: string): text is Scope {
  return (SCOPES as readonly string[]).includes(text);
}

/** Whether a key holding `held` may do what needs `needed` (admin may do everything). */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes('admin') || held.includes(needed);
}

/** A key's name: short, printable, no spaces (it shows in tables and the audit log). */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** A secret's name is an environment variable name; KUMO_ is the platform's own prefix. */
export const SECRET_NAME = /^(?!KUMO_)[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Largest secret value, in bytes: room for a PEM key or a service-account JSON. */
export const SECRET_MAX_BYTES = 64 * 1024;

/** One API key as stored: never the key itself, only its sha256. */
export interface ApiKeyRecord {
  /** Public identifier, also the middle part of the key (`kumo_<id>_<secret>`). */
  id: string;
  name: string;
  scopes: Scope[];
  /** sha256 of the whole key, hex. */
  hash: string;
  createdAt: number;
  /** The key that created this one; null for the first-start admin key. */
  createdBy: string | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** An API key as the control API shows it (no hash). */
export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>;

/** One encrypted secret of a function. */
export interface SecretRecord {
  function: string;
  name: string;
  /** AES-256-GCM envelope (see auth/secret-box.ts). */
  ciphertext: Buffer;
  /** Fingerprint of the master key that sealed it, so a wrong master key is named, not guessed. */
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

/** How an audited request ended. */
export type AuditOutcome = 'ok' | 'failed' | 'unauthorized' | 'forbidden' | 'rate_limited';

/** One audited control-plane request: who, what, when, and the result. Never the key itself. */
export interface AuditEntry {
  id?: number;
  time: number;
  /** The key's id (or the id a refused key claimed); null when no key was sent. */
  keyId: string | null;
  keyName: string | null;
  method: string;
  /** The path without its query (a query may carry values such as `env=`). */
  path: string;
  /** The route pattern that matched, e.g. `/api/v1/functions/:name/rollback`. */
  route: string;
  /** The scope the route requires. */
  scope: string;
  /** The function the request is about, when the route names one. */
  function: string | null;
  status: number;
  outcome: AuditOutcome;
  remote: string | null;
  durationMs: number;
}

/** What an audit query selects, newest first. */
export interface AuditQuery {
  since?: number;
  keyId?: string;
  function?: string;
  limit: number;
}
