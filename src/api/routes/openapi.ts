/**
 * GET /openapi.json — the OpenAPI 3.1 document of every declared route. Public: it describes
 * kumo (the same for every server of a version), not this server's functions, keys or data, and a
 * client generator or the console can read it before it has a key.
 */
import { sendJson, type Route } from '../../http/index.ts';
import { openApiDocument } from '../openapi.ts';

/** What the document route needs. */
export interface OpenApiRouteDeps {
  /** Every declared route of the server. */
  routes: () => readonly Route[];
  version: string;
}

/** GET /openapi.json. */
export function openApiRoute(d: OpenApiRouteDeps): Route {
  // Written once, at the first request: the table does not change while the server runs.
  let doc: unknown;
  return {
    method: 'GET',
    path: '/openapi.json',
    scope: 'none',
    tag: 'server',
    summary: 'This document: every route kumo serves, with what it needs',
    handler: ({ res }) => {
      doc ??= openApiDocument(d.routes(), { version: d.version });
      sendJson(res, 200, doc);
    },
  };
}
