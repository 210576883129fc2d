/**
 * API keys over the control plane: POST /keys (the key is in this answer and nowhere else, ever),
 * GET /keys, DELETE /keys/:id (revoke), GET /whoami (the calling key) and GET /scopes (what each
 * scope allows and what every route needs).
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import {
  KumoError,
  REQUIREMENT_DOCS,
  SCOPE_DOCS,
  SCOPES,
  type ApiKeyInfo,
  type Requirement,
  type Scope,
} from '../../core/index.ts';
import { jsonBody, sendJson, type Route, type RouteContext } from '../../http/index.ts';

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

/** Makes the AWS credential of a kumo key (auth/aws-keys.ts), for the Lambda API. */
export interface AwsKeyMaker {
  create(keyId: string): Promise<{ awsAccessKeyId: string; awsSecretAccessKey: string }>;
}

/** One route and what it needs, for GET /scopes. */
export interface RouteAccess {
  method: string;
  path: string;
  /** A scope, `any` (any valid key), `none`, or what the function decides (`function`, `result`). */
  scope: Requirement;
  summary: string;
}

/** What the key routes need. */
export interface KeyRoutesDeps {
  keys: KeyAdmin;
  /** AWS credentials for `aws: true` (absent: refused). */
  awsKeys?: AwsKeyMaker;
  /** The key the request was admitted with (the front door records it). */
  callerOf: (req: IncomingMessage) => ApiKeyInfo | undefined;
}

const createBody = z.strictObject({
  name: z.string().optional(),
  scopes: z
    .array(z.enum(SCOPES, { error: `each scope must be one of: ${SCOPES.join(', ')}` }))
    .min(1, { error: `give at least one scope (${SCOPES.join(', ')})` }),
  /** Also make an AWS access key id and secret for the Lambda API (SigV4). */
  aws: z.boolean().optional(),
});

/** GET /whoami, GET /scopes, GET|POST /keys, DELETE /keys/:id. */
export function keyRoutes(d: KeyRoutesDeps, routeAccess: () => RouteAccess[]): Route[] {
  const h = keyHandlers(d, routeAccess);
  const tag = 'access';
  return [
    { method: 'GET', path: '/whoami', scope: 'any', tag, summary: 'The calling key', handler: h.whoami },
    {
      method: 'GET',
      path: '/scopes',
      scope: 'any',
      tag,
      summary: 'What each scope allows and what every route needs',
      handler: h.scopes,
    },
    {
      method: 'GET',
      path: '/keys',
      scope: 'admin',
      tag,
      summary: 'Every API key (never a key or its hash)',
      handler: h.list,
    },
    {
      method: 'POST',
      path: '/keys',
      scope: 'admin',
      tag,
      summary:
        'Create a key; the answer is the only time the key is sent. aws: true also makes its AWS access key id and secret (Lambda API, SigV4), sent once too',
      ...jsonBody(
        {
          schema: createBody,
          limit: 16 * 1024,
          what: 'key',
          example: '{"name": "ci", "scopes": ["deploy"], "aws": true}',
        },
        h.create,
      ),
    },
    { method: 'DELETE', path: '/keys/:id', scope: 'admin', tag, summary: 'Revoke a key', handler: h.revoke },
  ];
}

function keyHandlers(d: KeyRoutesDeps, routeAccess: () => RouteAccess[]) {
  return {
    create: async ({ req, res }: RouteContext, body: z.output<typeof createBody>) => {
      if (body.aws && !d.awsKeys)
        throw new KumoError('bad_request', 'this server does not make AWS credentials');
      const created = await d.keys.create(
        body.name ?? body.scopes.join('-'),
        body.scopes,
        d.callerOf(req)?.id ?? null,
      );
      const aws = body.aws && d.awsKeys ? await d.awsKeys.create(created.info.id) : {};
      // The key (and AWS secret) travel once, in this body; no-store keeps them out of caches on the way.
      sendJson(res, 201, { ...created.info, key: created.key, ...aws }, { 'cache-control': 'no-store' });
    },
    list: async ({ res }: RouteContext) => sendJson(res, 200, { keys: await d.keys.list() }),
    revoke: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, { revoked: await d.keys.revoke(params.id ?? '') }),
    whoami: ({ req, res }: RouteContext) => {
      const caller = d.callerOf(req);
      if (!caller) throw new KumoError('unauthorized', 'this request was not made with an API key');
      sendJson(res, 200, caller);
    },
    scopes: ({ res }: RouteContext) =>
      sendJson(res, 200, { scopes: SCOPE_DOCS, requirements: REQUIREMENT_DOCS, routes: routeAccess() }),
  };
}
