/**
 * The one matcher: finds the declared route of a request by method, path and Host. The front
 * door and the dispatch both use its answer, so the route that is authorized is the route that
 * runs. A request no declaration matches runs nothing (default deny).
 */
import type { Route } from './route.ts';

/** What the table says about a request. */
export type Lookup =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  /** The path is declared, but not for this method (405, with `allow`). */
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

interface Compiled {
  route: Route;
  pattern: RegExp;
  keys: string[];
}

/** A path pattern as a RegExp: `:param` one segment, a trailing `/**` any rest, an optional trailing slash. */
export function compilePath(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  let source = path.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const rest = source.endsWith('/**');
  if (rest) source = source.slice(0, -3);
  source = source.replace(/:([a-zA-Z]+)/g, (_m, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}${rest ? '(?:/.*)?' : '/?'}$`), keys };
}

/** Every route kumo serves, matched in declaration order. */
export class RouteTable {
  private readonly compiled: Compiled[];

  /** Throws when two declarations collide or an alias names no route or another scope. */
  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    for (const r of routes) {
      const key = `${r.host ? 'host ' : ''}${r.method} ${r.path}`;
      if (seen.has(key)) throw new Error(`route declared twice: ${key}`);
      seen.add(key);
    }
    for (const r of routes) {
      if (!r.alias) continue;
      const target = routes.find(
        (t) => t.path === r.alias?.of && (t.method === r.method || t.method === '*') && !t.alias,
      );
      if (!target) throw new Error(`alias ${r.method} ${r.path} names no route: ${r.alias.of}`);
      if (target.scope !== r.scope)
        throw new Error(
          `alias ${r.path} declares ${r.scope} but its target ${target.path} needs ${target.scope}`,
        );
    }
    this.compiled = routes.map((route) => ({ route, ...compilePath(route.path) }));
  }

  /** The declarations, in order. */
  routes(): Route[] {
    return this.compiled.map((c) => c.route);
  }

  /**
   * The route of `method pathname`; when `hostFunction` is set (the Host names a function), only
   * Host routes are considered, with `name` set to that function.
   */
  match(method: string, pathname: string, hostFunction: string | undefined): Lookup {
    const allow = new Set<string>();
    for (const c of this.compiled) {
      if ((c.route.host ?? false) !== (hostFunction !== undefined)) continue;
      const m = c.pattern.exec(pathname);
      if (!m) continue;
      if (!methodMatches(c.route.method, method)) {
        allow.add(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.keys.forEach((key, i) => (params[key] = safeDecode(m[i + 1] ?? '')));
      if (hostFunction !== undefined) params.name = hostFunction;
      return { kind: 'route', route: c.route, params };
    }
    return allow.size ? { kind: 'method', allow: [...allow] } : { kind: 'none' };
  }
}

/** HEAD is served by a GET route (Node sends no body for it). */
function methodMatches(declared: string, method: string): boolean {
  return declared === '*' || declared === method || (method === 'HEAD' && declared === 'GET');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
