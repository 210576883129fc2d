/**
 * Function secrets over the control plane: PUT /functions/:name/secrets/:secret (the value is the
 * raw body), GET /functions/:name/secrets (names only), DELETE …/:secret. No route returns a
 * value: after it is set, a secret leaves the server only as an instance's environment.
 */
import { SECRET_MAX_BYTES } from '../../core/index.ts';
import { readBody, sendJson, type Route, type RouteContext } from '../../http/index.ts';

/** A secret as listed. */
export interface SecretListing {
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** The secret operations the routes need (auth/function-secrets.ts provides them). */
export interface SecretAdmin {
  set(fn: string, name: string, value: Buffer): Promise<SecretListing & { created: boolean }>;
  list(fn: string): Promise<SecretListing[]>;
  unset(fn: string, name: string): Promise<void>;
}

/** What the secret routes need. */
export interface SecretRoutesDeps {
  secrets: SecretAdmin;
  /** Replaces the function's running instances so that new values apply (no-op when not deployed). */
  restart: (fn: string) => void;
}

/** PUT|DELETE /functions/:name/secrets/:secret and GET /functions/:name/secrets. */
export function secretRoutes(d: SecretRoutesDeps): Route[] {
  const h = secretHandlers(d);
  const tag = 'secrets';
  return [
    {
      method: 'GET',
      path: '/functions/:name/secrets',
      scope: 'deploy',
      tag,
      summary: "The names of a function's secrets (never a value)",
      handler: h.list,
    },
    {
      method: 'PUT',
      path: '/functions/:name/secrets/:secret',
      scope: 'deploy',
      tag,
      summary: 'Set a secret (the body is the value); the function gets it as an environment variable',
      body: {
        raw: ['application/octet-stream', 'text/plain'],
        limit: SECRET_MAX_BYTES,
        what: 'secret value',
      },
      handler: h.set,
    },
    {
      method: 'DELETE',
      path: '/functions/:name/secrets/:secret',
      scope: 'deploy',
      tag,
      summary: 'Remove a secret',
      handler: h.unset,
    },
  ];
}

function secretHandlers(d: SecretRoutesDeps) {
  return {
    set: async ({ req, res, params }: RouteContext) => {
      const fn = params.name ?? '';
      const value = await readBody(req, SECRET_MAX_BYTES, 'secret value');
      const result = await d.secrets.set(fn, params.secret ?? '', value);
      value.fill(0);
      d.restart(fn);
      sendJson(res, result.created ? 201 : 200, {
        function: fn,
        secret: result.name,
        created: result.created,
        updatedAt: result.updatedAt,
      });
    },
    list: async ({ res, params }: RouteContext) => {
      const fn = params.name ?? '';
      sendJson(res, 200, { function: fn, secrets: await d.secrets.list(fn) });
    },
    unset: async ({ res, params }: RouteContext) => {
      const fn = params.name ?? '';
      await d.secrets.unset(fn, params.secret ?? '');
      d.restart(fn);
      sendJson(res, 200, { function: fn, deleted: params.secret ?? '' });
    },
  };
}
