/**
 * ShortedFaaS's routes as aliases of kumo's own surface: the request is rewritten before auth
 * and routing, so each alias gets exactly the auth, limits and answers of its target.
 *   POST /f/NAME         → /fn/NAME/               (sync invocation)
 *   POST /a/NAME         → /async/fn/NAME/         (202 {id})
 *   GET  /r/NAME/ID      → /invocations/ID         (202 until done, then the output, or 500)
 *   GET  /list           → /api/v1/functions
 *   GET  /history        → /api/v1/history
 *   GET  /history/ID     → /api/v1/invocations/ID  (inputs, outputs, errors, status)
 * A request whose Host names a function (NAME.localhost) is that function's, never an alias.
 */
import { FUNCTION_NAME } from '../core/index.ts';
import { nameFromHost } from './route.ts';

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
