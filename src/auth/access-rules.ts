/**
 * The one table of who may call what. Every request is classified here before any route runs:
 * a control-plane route needs the scope its rule names, and a route with no rule needs `admin`
 * (default deny), so a route added without a rule is safe until someone decides otherwise.
 * Function invocations (every path that calls a function) are classified by function name; the
 * function's manifest (`access: public | private`) decides the rest.
 */
import type { Scope } from '../core/index.ts';

/** What a route needs: a scope, any valid key (`any`), or nothing (`none`). */
export type Requirement = Scope | 'any' | 'none';

/** One rule: method (HEAD is matched as GET), path pattern (`:param` one segment, `**` the rest). */
export interface AccessRule {
  method: string;
  path: string;
  need: Requirement;
}

/** The control plane, below /api/v1. Keep in step with api/control-api.ts and docs/http-api.md. */
export const CONTROL_RULES: readonly AccessRule[] = [
  { method: 'GET', path: '/whoami', need: 'any' },
  { method: 'GET', path: '/scopes', need: 'any' },
  { method: 'GET', path: '/status', need: 'read' },
  // Functions, versions, logs.
  { method: 'GET', path: '/functions', need: 'read' },
  { method: 'POST', path: '/functions', need: 'deploy' },
  { method: 'GET', path: '/functions/:name', need: 'read' },
  { method: 'DELETE', path: '/functions/:name', need: 'deploy' },
  { method: 'GET', path: '/functions/:name/versions', need: 'read' },
  { method: 'POST', path: '/functions/:name/rollback', need: 'deploy' },
  { method: 'GET', path: '/functions/:name/logs', need: 'read' },
  // History, invocations, stats, schedules (issue 5).
  { method: 'GET', path: '/functions/:name/invocations', need: 'read' },
  { method: 'GET', path: '/functions/:name/history', need: 'read' },
  { method: 'GET', path: '/functions/:name/stats', need: 'read' },
  { method: 'GET', path: '/functions/:name/stats/buckets', need: 'read' },
  { method: 'GET', path: '/overview', need: 'read' },
  { method: 'GET', path: '/functions/:name/schedules', need: 'read' },
  { method: 'POST', path: '/functions/:name/schedules', need: 'deploy' },
  { method: 'PUT', path: '/functions/:name/schedules/:id', need: 'deploy' },
  { method: 'DELETE', path: '/functions/:name/schedules', need: 'deploy' },
  { method: 'DELETE', path: '/functions/:name/schedules/:id', need: 'deploy' },
  { method: 'GET', path: '/invocations', need: 'read' },
  { method: 'GET', path: '/invocations/**', need: 'read' },
  { method: 'POST', path: '/invocations/:id/redrive', need: 'deploy' },
  { method: 'GET', path: '/history', need: 'read' },
  { method: 'GET', path: '/history/**', need: 'read' },
  { method: 'GET', path: '/schedules', need: 'read' },
  { method: 'GET', path: '/schedules/**', need: 'read' },
  { method: 'POST', path: '/schedules', need: 'deploy' },
  { method: 'DELETE', path: '/schedules/:id', need: 'deploy' },
  { method: 'GET', path: '/stats', need: 'read' },
  { method: 'GET', path: '/stats/**', need: 'read' },
  { method: 'GET', path: '/metrics', need: 'read' },
  { method: 'GET', path: '/queue', need: 'read' },
  // Deploy from git (issue 7): the same power as an upload.
  { method: 'POST', path: '/deployments', need: 'deploy' },
  { method: 'POST', path: '/functions/git', need: 'deploy' },
  // Secrets: names are listed, values are only ever written.
  { method: 'GET', path: '/functions/:name/secrets', need: 'deploy' },
  { method: 'PUT', path: '/functions/:name/secrets/:secret', need: 'deploy' },
  { method: 'DELETE', path: '/functions/:name/secrets/:secret', need: 'deploy' },
  // Keys and the audit log.
  { method: 'GET', path: '/keys', need: 'admin' },
  { method: 'POST', path: '/keys', need: 'admin' },
  { method: 'DELETE', path: '/keys/:id', need: 'admin' },
  { method: 'GET', path: '/audit', need: 'admin' },
];

/** Paths outside /api/v1 that are not invocations: health, metrics, and the compatibility listings. */
export const TOP_LEVEL_RULES: readonly AccessRule[] = [
  { method: 'GET', path: '/healthz', need: 'none' },
  // The web console's static files: public, since they hold no data; the page asks for a key.
  { method: 'GET', path: '/ui/**', need: 'none' },
  { method: 'GET', path: '/metrics', need: 'read' },
  { method: 'GET', path: '/list', need: 'read' },
  { method: 'GET', path: '/history', need: 'read' },
  { method: 'GET', path: '/history/:id', need: 'read' },
];

/** Paths that call a function, by the function they name (any method). */
export const INVOCATION_PATHS: readonly string[] = [
  '/fn/:name/**',
  '/async/fn/:name/**',
  '/f/:name/**',
  '/a/:name/**',
  '/r/:name/**',
];

/** The data-plane result of an async invocation: access follows the invocation's function. */
export const RESULT_PATH = '/invocations/:id/**';

/** How a request is to be checked. */
export type RequestClass =
  | { kind: 'open'; route: string }
  | {
      kind: 'guarded';
      need: Exclude<Requirement, 'none'>;
      route: string;
      function: string | null;
      explicit: boolean;
    }
  | { kind: 'invoke'; function: string }
  | { kind: 'result'; invocationId: string };

interface Compiled {
  rule: AccessRule;
  pattern: RegExp;
  keys: string[];
}

/** A pattern as the API router matches it (one segment per `:param`, optional trailing slash), plus `**`. */
export function compilePattern(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  let source = path.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const rest = source.endsWith('/**');
  if (rest) source = source.slice(0, -3);
  source = source.replace(/:([a-z]+)/g, (_m, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}${rest ? '(?:/.*)?' : '/?'}$`), keys };
}

function compile(rules: readonly AccessRule[]): Compiled[] {
  return rules.map((rule) => ({ rule, ...compilePattern(rule.path) }));
}

const CONTROL = compile(CONTROL_RULES);
const TOP = compile(TOP_LEVEL_RULES);
const INVOKE = compile(INVOCATION_PATHS.map((path) => ({ method: '*', path, need: 'invoke' as const })));
const RESULT = compilePattern(RESULT_PATH);

/** The rule of `method path` in `table`, with its parameters (first match wins). */
function find(table: Compiled[], method: string, path: string) {
  const m = method === 'HEAD' ? 'GET' : method;
  for (const c of table) {
    if (c.rule.method !== '*' && c.rule.method !== m) continue;
    const match = c.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    c.keys.forEach((key, i) => (params[key] = safeDecode(match[i + 1] ?? '')));
    return { rule: c.rule, params };
  }
  return undefined;
}

/** What a control-plane route (path below /api/v1) needs; `explicit` is false when the default applied. */
export function controlRequirement(
  method: string,
  path: string,
): { need: Requirement; route: string; params: Record<string, string>; explicit: boolean } {
  const found = find(CONTROL, method, path);
  if (!found) return { need: 'admin', route: `/api/v1${path}`, params: {}, explicit: false };
  return { need: found.rule.need, route: `/api/v1${found.rule.path}`, params: found.params, explicit: true };
}

/**
 * Classifies a request. `hostFunction` is the function its Host header names (`NAME.localhost`),
 * which makes every path an invocation of it, as the gateway routes it.
 */
export function classifyRequest(
  method: string,
  pathname: string,
  hostFunction: string | undefined,
): RequestClass {
  if (hostFunction !== undefined) return { kind: 'invoke', function: hostFunction };
  if (pathname.startsWith('/api/v1/')) {
    const c = controlRequirement(method, pathname.slice(7));
    if (c.need === 'none') return { kind: 'open', route: c.route };
    return {
      kind: 'guarded',
      need: c.need,
      route: c.route,
      function: c.params.name ?? null,
      explicit: c.explicit,
    };
  }
  const invoked = find(INVOKE, method, pathname);
  if (invoked) return { kind: 'invoke', function: invoked.params.name ?? '' };
  const result = RESULT.pattern.exec(pathname);
  if (result) return { kind: 'result', invocationId: safeDecode(result[1] ?? '') };
  const top = find(TOP, method, pathname);
  if (top?.rule.need === 'none') return { kind: 'open', route: top.rule.path };
  if (top)
    return { kind: 'guarded', need: top.rule.need, route: top.rule.path, function: null, explicit: true };
  // Default deny, outside the API too: a top-level route added later is closed until it has a rule.
  return { kind: 'guarded', need: 'admin', route: pathname, function: null, explicit: false };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
