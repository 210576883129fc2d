/**
 * ShortedFaaS's routes as aliases of kumo's own surface: declared in the route table as aliases,
 * each request is rewritten before auth and routed again, so each alias gets exactly the auth,
 * limits and answers of its target.
 *   POST /f/NAME         → /fn/NAME/               (sync invocation)
 *   POST /a/NAME         → /async/fn/NAME/         (202 {id})
 *   GET  /r/NAME/ID      → /invocations/ID         (202 until done, then the output, or 500)
 *   GET  /list           → /api/v1/functions
 *   GET  /history        → /api/v1/history
 *   GET  /history/ID     → /api/v1/invocations/ID  (inputs, outputs, errors, status)
 * A request whose Host names a function (NAME.localhost) is that function's, never an alias.
 */
import { FUNCTION_NAME, type Requirement } from '../core/index.ts';
import type { Route } from '../http/index.ts';
import { nameFromHost } from './route.ts';

/** The aliases as declared routes: method, alias path, target path, and the target's requirement. */
const ALIASES: [string, string, string, Requirement, string][] = [
  ['*', '/f/:name', '/fn/:name/**', 'function', 'Invoke NAME (ShortedFaaS)'],
  ['*', '/a/:name', '/async/fn/:name/**', 'function', 'Queue an invocation of NAME (ShortedFaaS): 202 {id}'],
  ['GET', '/r/:name/:id', '/invocations/:id', 'result', 'The result of invocation ID of NAME (ShortedFaaS)'],
  ['GET', '/list', '/api/v1/functions', 'read', 'The deployed functions (ShortedFaaS)'],
  ['GET', '/history', '/api/v1/history', 'read', 'Invocations, newest first (ShortedFaaS)'],
  ['GET', '/history/:id', '/api/v1/invocations/:id', 'read', 'One invocation in full (ShortedFaaS)'],
];

/** The compatibility routes (the route table checks each requirement against its target's). */
export function compatRoutes(baseDomain: string): Route[] {
  return ALIASES.map(([method, path, of, scope, summary]) => ({
    method,
    path,
    scope,
    tag: 'compat',
    summary,
    alias: { of, rewrite: ({ req, url }) => compatUrl(req.headers.host, url, baseDomain) },
  }));
}

/** The URL a compatibility route stands for, or undefined when `url` is not one. */
export function compatUrl(host: string | undefined, url: string, baseDomain: string): string | undefined {
  if (nameFromHost(host, baseDomain)) return undefined;
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const m = /^\/(f|a|r|list|history)(?:\/([^/]+))?(?:\/([^/]+))?\/?$/.exec(pathname);
  if (!m) return undefined;
  const [, route, first, second] = m;
  switch (route) {
    case 'f':
    case 'a':
      if (!first || second !== undefined || !FUNCTION_NAME.test(first)) return undefined;
      return `${route === 'f' ? '' : '/async'}/fn/${first}/${query}`;
    case 'r':
      if (!first || !second || !FUNCTION_NAME.test(first)) return undefined;
      // The result must belong to NAME: /r/other/ID answers 404 like an unknown id.
      return `/invocations/${second}${query ? `${query}&` : '?'}function=${first}`;
    case 'list':
      return first === undefined ? `/api/v1/functions${query}` : undefined;
    default:
      if (second !== undefined) return undefined;
      return first === undefined ? `/api/v1/history${query}` : `/api/v1/invocations/${first}${query}`;
  }
}
