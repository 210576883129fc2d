/**
 * The front door: one check in front of every request, before any route runs. It enforces the
 * header and URL size limits, then applies what the matched route's declaration requires
 * (`scope`, see http/route.ts):
 *  - a scope or `any`: a valid, unrevoked key (401) with the scope (403), within the key's rate
 *    limit (429 + Retry-After); every such request is audited when its response ends;
 *  - `function`: a private function needs a key with the invoke scope; every function's own
 *    rate limit applies; and a kumo key is removed from the request before the function sees it;
 *  - `result`: decided by the result route once it has read the invocation (admitResult);
 *  - `none`: nothing.
 * A request no declaration matches runs no handler: it needs a valid key (401 without one, and
 * audited) before it is told 404 or 405.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  grants,
  KumoError,
  type AccessLevel,
  type ApiKeyInfo,
  type AuditOutcome,
  type RateLimit,
  type Scope,
} from '../core/index.ts';
import { sendError, type Lookup } from '../http/index.ts';
import type { AuditLog } from './audit-log.ts';
import { keyIdOf } from './api-key.ts';
import { credentialOf, stripKumoKey } from './authorization.ts';
import type { KeyCheck, KeyRing } from './key-ring.ts';
import { retryAfterSeconds, type Rate, type RateLimiter } from './rate-limiter.ts';

/** What the guard needs to know about a deployed function. */
export interface FunctionAccess {
  access: AccessLevel;
  rateLimit: RateLimit | undefined;
}

/** Options of the guard; every dependency is passed in by server.ts. */
export interface AccessGuardOptions {
  keys: KeyRing;
  audit: AuditLog;
  limiter: RateLimiter;
  /** Control-plane requests allowed per key. */
  apiRate: Rate;
  /** The access settings of function `name`, undefined when it is not deployed. */
  functionAccess: (name: string) => FunctionAccess | undefined;
  /**
   * The function a route's name parameter addresses, without an alias or version
   * (`NAME@live`, `NAME--live`): access and rate limits are the function's, whatever the alias.
   */
  functionOf?: (raw: string) => string;
  /** Longest request URL (path and query), in bytes. */
  urlLimit: number;
  /** Largest request header section (names, values and separators), in bytes. */
  headerLimit: number;
  now: () => number;
}

/** A request that needs a key: what it needs, and what the audit log records of it. */
interface Guarded {
  need: Scope | 'any';
  /** The declared path pattern (`/api/v1/functions/:name`), or the path when nothing matched. */
  route: string;
  function: string | null;
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="kumo"' };

/** The front door of the server. */
export class AccessGuard {
  private readonly o: AccessGuardOptions;
  private readonly callers = new WeakMap<IncomingMessage, ApiKeyInfo>();

  constructor(options: AccessGuardOptions) {
    this.o = options;
  }

  /**
   * Checks `req` for `pathname`, found in the route table as `found`. Resolves true when it may
   * go on to its route (or to its 404/405); otherwise it has answered with the error and resolves false.
   */
  async admit(req: IncomingMessage, res: ServerResponse, pathname: string, found: Lookup): Promise<boolean> {
    try {
      this.checkSize(req);
      // Undeclared: nothing can run, but only a key holder learns that (and the attempt is audited).
      if (found.kind !== 'route')
        return this.admitControl(req, res, pathname, { need: 'any', route: pathname, function: null });
      const { route, params } = found;
      switch (route.scope) {
        case 'none':
          return true;
        case 'function':
          await this.admitInvocation(req, this.o.functionOf?.(params.name ?? '') ?? params.name ?? '', true);
          return true;
        case 'aws':
          // The Lambda API (lambda/operation.ts) verifies the signature, which covers the body, once it has read it.
          return true;
        case 'result':
          // Decided by the result route once it has read the invocation (admitResult): deciding
          // here would read "no row yet" (a sync record still in its write batch) as "public".
          return true;
        default:
          return await this.admitControl(req, res, pathname, {
            need: route.scope,
            route: route.path,
            function: params.name ?? null,
          });
      }
    } catch (err) {
      req.resume();
      sendError(res, err, err instanceof KumoError ? headersFor(err) : {});
      return false;
    }
  }

  /**
   * Whether `req` may read the result of an invocation of function `fn` (a private function's
   * needs an invoke key). Called by the result route with the invocation in hand; when it may
   * not, the refusal has been sent and this returns false.
   */
  async admitResult(req: IncomingMessage, res: ServerResponse, fn: string): Promise<boolean> {
    try {
      await this.admitInvocation(req, fn, false);
      return true;
    } catch (err) {
      sendError(res, err, err instanceof KumoError ? headersFor(err) : {});
      return false;
    }
  }

  /** The key a control-plane request was admitted with (for routes that record who acted). */
  callerOf(req: IncomingMessage): ApiKeyInfo | undefined {
    return this.callers.get(req);
  }

  private checkSize(req: IncomingMessage): void {
    const url = req.url ?? '/';
    if (Buffer.byteLength(url) > this.o.urlLimit) {
      throw new KumoError(
        'uri_too_long',
        `the request URL is ${Buffer.byteLength(url)} bytes; the limit is ${this.o.urlLimit}`,
      );
    }
    let size = 0;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i++) size += Buffer.byteLength(raw[i] ?? '') + 2;
    if (size > this.o.headerLimit) {
      throw new KumoError(
        'headers_too_large',
        `the request headers are ${size} bytes; the limit is ${this.o.headerLimit}`,
      );
    }
  }

  private async admitInvocation(req: IncomingMessage, fn: string, rateLimited: boolean): Promise<void> {
    const settings = this.o.functionAccess(fn);
    if (settings?.access === 'private') {
      const check = await this.o.keys.check(presentedKey(req));
      if (!check.ok)
        throw refusal(check, `function '${fn}' is private: it needs an API key with the invoke scope`);
      if (!grants(check.key.scopes, 'invoke')) {
        throw new KumoError(
          'forbidden',
          `key ${check.key.id} (${check.key.name}) has the scopes ${check.key.scopes.join(', ')}; calling the private function '${fn}' needs invoke`,
        );
      }
    }
    stripKumoKey(req);
    if (!rateLimited || !settings?.rateLimit) return;
    const take = this.o.limiter.take(`fn:${fn}`, settings.rateLimit);
    if (!take.ok) {
      throw new KumoError(
        'rate_limited',
        `function '${fn}' is over its rate limit of ${settings.rateLimit.rps}/s (burst ${settings.rateLimit.burst}): retry after ${retryAfterSeconds(take.retryAfterMs)}s`,
        { retryAfter: retryAfterSeconds(take.retryAfterMs) },
      );
    }
  }

  private async admitControl(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    cls: Guarded,
  ): Promise<boolean> {
    const startedAt = this.o.now();
    const seen: { check?: KeyCheck } = {};
    let outcome: AuditOutcome | undefined;
    // Listening before the key is read: a client gone meanwhile is audited too.
    res.once('close', () => {
      const status = res.statusCode;
      const c = seen.check;
      // A failed write rejects unhandled, as the synchronous write it replaced threw from this listener.
      void this.o.audit.record({
        time: startedAt,
        keyId: c?.ok ? c.key.id : (c?.keyId ?? keyIdOf(presentedKey(req) ?? '') ?? null),
        keyName: c?.ok ? c.key.name : null,
        method: req.method ?? 'GET',
        path: pathname,
        route: cls.route,
        scope: cls.need,
        function: cls.function,
        status,
        outcome: outcome ?? (status < 400 ? 'ok' : 'failed'),
        remote: req.socket.remoteAddress ?? null,
        durationMs: this.o.now() - startedAt,
      });
    });
    const check = await this.o.keys.check(presentedKey(req));
    seen.check = check;
    const refuse = (err: KumoError, as: AuditOutcome) => {
      outcome = as;
      req.resume();
      sendError(res, err, headersFor(err));
      return false;
    };
    if (!check.ok) return refuse(refusal(check, needText(cls.need, cls.route)), 'unauthorized');
    const take = this.o.limiter.take(`key:${check.key.id}`, this.o.apiRate);
    if (!take.ok) {
      const after = retryAfterSeconds(take.retryAfterMs);
      return refuse(
        new KumoError(
          'rate_limited',
          `key ${check.key.id} (${check.key.name}) is over the control-plane rate limit of ${this.o.apiRate.rps}/s (burst ${this.o.apiRate.burst}): retry after ${after}s`,
          { retryAfter: after },
        ),
        'rate_limited',
      );
    }
    if (cls.need !== 'any' && !grants(check.key.scopes, cls.need)) {
      return refuse(
        new KumoError(
          'forbidden',
          `key ${check.key.id} (${check.key.name}) has the scopes ${check.key.scopes.join(', ')}; ${req.method} ${cls.route} needs ${cls.need}`,
          { needed: cls.need, scopes: check.key.scopes },
        ),
        'forbidden',
      );
    }
    this.callers.set(req, check.key);
    return true;
  }
}

/** The presented token; an Authorization header in another scheme counts as a malformed key. */
function presentedKey(req: IncomingMessage): string | undefined {
  return credentialOf(req.headers) ?? (req.headers.authorization === undefined ? undefined : '');
}

/** The 401 for a refused key. */
function refusal(check: Extract<KeyCheck, { ok: false }>, what: string): KumoError {
  const how =
    'send `Authorization: Bearer KEY` (the CLI uses KUMO_API_KEY, `kumo login`, or the key file of a local server)';
  switch (check.reason) {
    case 'missing':
      return new KumoError('unauthorized', `${what}: ${how}`);
    case 'malformed':
      return new KumoError(
        'unauthorized',
        `${what}: the Authorization header holds no kumo API key (Bearer kumo_… or SharedSecret kumo_…)`,
      );
    case 'unknown':
      return new KumoError(
        'unauthorized',
        `${what}: the API key ${check.keyId ?? ''} is not valid (unknown id or wrong secret)`,
      );
    case 'revoked':
      return new KumoError(
        'unauthorized',
        `${what}: the API key ${check.keyId ?? ''} was revoked; ask an admin for a new one`,
      );
  }
}

function needText(need: Scope | 'any', route: string): string {
  return need === 'any' ? `${route} needs an API key` : `${route} needs an API key with the ${need} scope`;
}

/** Retry-After on 429, the Bearer challenge on 401 (RFC 9110 §11.6.1). */
function headersFor(err: KumoError): Record<string, string> {
  if (err.code === 'unauthorized') return CHALLENGE;
  if (err.code === 'rate_limited') {
    const after = (err.details as { retryAfter?: number } | undefined)?.retryAfter ?? 1;
    return { 'retry-after': String(after) };
  }
  return {};
}
