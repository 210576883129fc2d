/**
 * Which function a request is for: `Host: NAME.<base>[:port]` or the path `/fn/NAME/…`, and
 * which alias or version of it: `NAME--ALIAS.<base>` or `/fn/NAME@ALIAS/…` (`/fn/NAME@3/…`).
 */
import { FUNCTION_NAME, splitHostLabel, splitQualified } from '../core/index.ts';

/** A request addressed to a function, and the path the function sees. */
export interface FunctionRoute {
  name: string;
  /** Path and query as the function sees them, always starting with "/". */
  path: string;
  /** The alias or version number the request names; undefined: the active version. */
  qualifier?: string | undefined;
}

/**
 * Finds the function a request addresses, or undefined when it addresses none. `exists` tells
 * whether a function of that name is deployed (a deployed `a--b` keeps its own host).
 */
export function routeFunction(
  host: string | undefined,
  url: string,
  baseDomain: string,
  exists: (name: string) => boolean = () => false,
): FunctionRoute | undefined {
  const byHost = nameFromHost(host, baseDomain);
  if (byHost) {
    const { name, qualifier } = splitHostLabel(byHost, exists);
    return { name, qualifier, path: url.startsWith('/') ? url : `/${url}` };
  }
  if (!url.startsWith('/fn/')) return undefined;
  const rest = url.slice(4);
  const end = rest.search(/[/?]/);
  const segment = end === -1 ? rest : rest.slice(0, end);
  if (!segment) return undefined;
  const { name, qualifier } = splitQualified(segment);
  const tail = end === -1 ? '' : rest.slice(end);
  return { name, qualifier, path: tail.startsWith('/') ? tail : `/${tail}` };
}

/** The NAME of `NAME.<baseDomain>[:port]`, if the host has that form. */
export function nameFromHost(host: string | undefined, baseDomain: string): string | undefined {
  if (!host) return undefined;
  const bare = host.replace(/:\d+$/, '').toLowerCase();
  const suffix = `.${baseDomain.toLowerCase()}`;
  if (!bare.endsWith(suffix)) return undefined;
  const name = bare.slice(0, -suffix.length);
  return FUNCTION_NAME.test(name) ? name : undefined;
}
