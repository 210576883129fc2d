/**
 * API routes: `METHOD /path` mapped to a function, as an API Gateway HTTP API maps its routes
 * (SAM's Api and HttpApi events make them). kumo serves them under `/routes` on its own address:
 * `GET /routes/hello` calls the function that `GET /hello` maps to, which sees the path `/hello`.
 * Paths are API Gateway's: literal segments, `{name}` for one segment, `{name+}` (last) for the
 * rest. The most specific route wins: segment by segment a literal beats `{name}`, which beats
 * `{name+}`; then a method beats ANY. Pure: no I/O.
 */
import { KumoError } from './errors.ts';

/** The prefix kumo serves API routes under. */
export const API_ROUTE_PREFIX = '/routes';

/** Methods a route may name (ANY: every method). */
export const API_ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;

/** At most this many routes per function. */
export const MAX_ROUTES_PER_FUNCTION = 100;

/** A route as a template asks for it. */
export interface ApiRoute {
  method: string;
  path: string;
}

/** A stored route: which function serves it. */
export interface ApiRouteRecord extends ApiRoute {
  function: string;
  createdAt: number;
}

const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$/;
const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;

/** Throws invalid_route unless `route` is a method and an API Gateway path; returns it normalised. */
export function assertApiRoute(route: ApiRoute): ApiRoute {
  const method = route.method.toUpperCase();
  const fail = (why: string): never => {
    throw new KumoError(
      'invalid_route',
      `route ${JSON.stringify(`${route.method} ${route.path}`.slice(0, 120))}: ${why}`,
    );
  };
  if (!(API_ROUTE_METHODS as readonly string[]).includes(method))
    fail(`the method must be one of ${API_ROUTE_METHODS.join(', ')}`);
  const path = route.path;
  if (!path.startsWith('/') || path.length > 512)
    fail('the path must start with "/" and be at most 512 characters');
  const segments = path === '/' ? [] : path.slice(1).split('/');
  segments.forEach((s, i) => {
    const param = PARAM.exec(s);
    if (param) {
      if (param[2] === '+' && i !== segments.length - 1) fail(`{${param[1]}+} must be the last segment`);
      return;
    }
    if (!LITERAL.test(s))
      fail(
        `segment ${JSON.stringify(s.slice(0, 40))} must be text without "/", "{" or "}", or {name} / {name+}`,
      );
  });
  return { method, path };
}

/** A compiled route. */
interface Compiled {
  record: ApiRouteRecord;
  segments: { kind: 0 | 1 | 2; text: string }[];
}

/** What a request matched: the function, the route, and the path the function sees. */
export interface ApiRouteMatch {
  record: ApiRouteRecord;
  params: Record<string, string>;
}

/** Finds the route of a request among a set of routes. */
export class ApiRouteMatcher {
  private readonly compiled: Compiled[];

  constructor(records: ApiRouteRecord[]) {
    this.compiled = records.map((record) => ({
      record,
      segments: (record.path === '/' ? [] : record.path.slice(1).split('/')).map((s) => {
        const param = PARAM.exec(s);
        if (!param) return { kind: 0 as const, text: s };
        return { kind: param[2] === '+' ? (2 as const) : (1 as const), text: param[1] as string };
      }),
    }));
  }

  /** The most specific route for `method pathname` (pathname without the prefix), or undefined. */
  match(method: string, pathname: string): ApiRouteMatch | undefined {
    const parts = pathname === '/' || pathname === '' ? [] : pathname.slice(1).split('/');
    let best: { c: Compiled; params: Record<string, string>; rank: number[] } | undefined;
    for (const c of this.compiled) {
      if (c.record.method !== 'ANY' && c.record.method !== method.toUpperCase()) continue;
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      const rank = [...c.segments.map((s) => s.kind), c.record.method === 'ANY' ? 1 : 0];
      if (!best || before(rank, best.rank)) best = { c, params, rank };
    }
    return best ? { record: best.c.record, params: best.params } : undefined;
  }

  /** Every route, as stored. */
  get records(): ApiRouteRecord[] {
    return this.compiled.map((c) => c.record);
  }
}

function matchSegments(segments: Compiled['segments'], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Compiled['segments'][number];
    if (s.kind === 2) {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      params[s.text] = rest.join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    if (s.kind === 0 && s.text !== part) return undefined;
    if (s.kind === 1) params[s.text] = part;
  }
  return parts.length === segments.length ? params : undefined;
}

/** Whether rank `a` is more specific than `b` (lower kinds first, segment by segment). */
function before(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return x < y;
  }
  return false;
}
