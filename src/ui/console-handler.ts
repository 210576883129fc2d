/**
 * Serves the web console at /ui. The page is a client of /api/v1 only: these files hold no data
 * and need no key (the page asks for one and sends it in an Authorization header). Every answer
 * carries a strict Content-Security-Policy — scripts and styles from this origin only, no inline
 * script or style, no framing — so that even a bug that put a function's output into the page
 * as HTML could not run it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Asset } from './console-assets.ts';

/** The policy of every console answer. `connect-src 'self'`: the API and the invoke console. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every console answer. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Options of the console handler. */
export interface ConsoleOptions {
  /** Builds the files (called once, on the first request). */
  build: () => Promise<Map<string, Asset>>;
}

/** The /ui route. */
export class ConsoleHandler {
  private assets: Promise<Map<string, Asset>> | undefined;
  private readonly build: () => Promise<Map<string, Asset>>;

  constructor(options: ConsoleOptions) {
    this.build = options.build;
  }

  /** Answers a request for `pathname` (`/ui` or below it: the route `GET /ui/**` in server-routes.ts). */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return this.send(res, 405, 'text/plain; charset=utf-8', 'the console is read with GET\n', {
        allow: 'GET, HEAD',
      });
    const name = pathname === '/ui' || pathname === '/ui/' ? 'index.html' : pathname.slice(4);
    let assets: Map<string, Asset>;
    try {
      assets = await (this.assets ??= this.build());
    } catch (err) {
      this.assets = undefined;
      throw err;
    }
    const file = assets.get(name);
    if (!file) return this.send(res, 404, 'text/plain; charset=utf-8', `no console file ${name}\n`);
    if (req.headers['if-none-match'] === file.etag)
      return this.send(res, 304, undefined, undefined, { etag: file.etag });
    this.send(res, 200, file.type, req.method === 'HEAD' ? undefined : file.body, {
      etag: file.etag,
      'content-length': String(file.body.length),
    });
  }

  private send(
    res: ServerResponse,
    status: number,
    type: string | undefined,
    body: string | Buffer | undefined,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      ...CONSOLE_HEADERS,
      'cache-control': 'no-cache',
      ...(type ? { 'content-type': type } : {}),
      ...extra,
    });
    res.end(body);
  }
}
