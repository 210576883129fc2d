/** Which function a request is for: `Host: NAME.<base>[:port]` or the path `/fn/NAME/…`. */
import { FUNCTION_NAME } from '../core/index.ts';

/** A request addressed to a function, and the path the function sees. */
export interface FunctionRoute {
  name: string;
  /** Path and query as the function sees them, always starting with "/". */
  path: string;
}

/** Finds the function a request addresses, or undefined when it addresses none. */
export function routeFunction(
  host: string | undefined,
  url: string,
  baseDomain: string,
): FunctionRoute | undefined {
  const byHost = nameFromHost(host, baseDomain);
  if (byHost) return { name: byHost, path: url.startsWith('/') ? url : `/${url}` };
  if (!url.startsWith('/fn/')) return undefined;
  const rest = url.slice(4);
  const end = rest.search(/[/?]/);
  const name = end === -1 ? rest : rest.slice(0, end);
  if (!name) return undefined;
  const tail = end === -1 ? '' : rest.slice(end);
  return { name, path: tail.startsWith('/') ? tail : `/${tail}` };
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
