/**
 * API keys over the control plane: POST /keys (the key is in this answer and nowhere else, ever),
 * GET /keys, DELETE /keys/:id (revoke), GET /whoami (the calling key) and GET /scopes (what each
 * scope allows and what every route needs).
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { KumoError, SCOPE_DOCS, SCOPES, type ApiKeyInfo, type Scope } from '../../core/index.ts';
import { readBody, sendJson } from '../../http/index.ts';
import type { RouteContext } from '../router.ts';

/** The key operations the routes need (auth/key-ring.ts provides them). */
export interface KeyAdmin {
  create(
    name: string,
    scopes: readonly Scope[],
    createdBy: string | null,
  ): Promise<{ info: ApiKeyInfo; key: string }>;
  list(): Promise<ApiKeyInfo[]>;
  revoke(id: string): Promise<ApiKeyInfo>;
}

/** One route and what it needs, for GET /scopes. */
export interface RouteAccess {
  method: string;
  path: string;
  /** A scope, `any` (any valid key) or `none`. */
  scope: string;
  /** False when no rule names the route and the default (admin) applies. */
  explicit: boolean;
}

/** What the key routes need. */
export interface KeyRoutesDeps {
  keys: KeyAdmin;
  /** The key the request was admitted with (the front door records it). */
  callerOf: (req: IncomingMessage) => ApiKeyInfo | undefined;
}

const createBody = z.strictObject({
  name: z.string().optional(),
  scopes: z
    .array(z.enum(SCOPES, { error: `each scope must be one of: ${SCOPES.join(', ')}` }))
    .min(1, { error: `give at least one scope (${SCOPES.join(', ')})` }),
});

/** The key routes. */
export function keyRoutes(d: KeyRoutesDeps, routeAccess: () => RouteAccess[]) {
  return {
    create: async ({ req, res }: RouteContext) => {
      const body = parseCreate(await readBody(req, 16 * 1024));
      const created = await d.keys.create(
        body.name ?? body.scopes.join('-'),
        body.scopes,
        d.callerOf(req)?.id ?? null,
      );
      // The key travels once, in this body; no-store keeps it out of caches on the way.
      sendJson(res, 201, { ...created.info, key: created.key }, { 'cache-control': 'no-store' });
    },
    list: async ({ res }: RouteContext) => sendJson(res, 200, { keys: await d.keys.list() }),
    revoke: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { revoked: await d.keys.revoke(params.id ?? '') }),
    whoami: ({ req, res }: RouteContext) => {
      const caller = d.callerOf(req);
      if (!caller) throw new KumoError('unauthorized', 'this request was not made with an API key');
      sendJson(res, 200, caller);
    },
    scopes: ({ res }: RouteContext) => sendJson(res, 200, { scopes: SCOPE_DOCS, routes: routeAccess() }),
  };
}

function parseCreate(raw: Buffer): z.infer<typeof createBody> {
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8') || '{}');
  } catch {
    throw new KumoError('bad_request', 'the body must be JSON like {"name": "ci", "scopes": ["deploy"]}');
  }
  const parsed = createBody.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? `"${issue.path.join('.')}" ` : '';
  throw new KumoError('bad_request', `key: ${field}${issue?.message ?? 'is invalid'}`);
}
