/** Aliases of a function: GET /functions/:name/aliases, GET|PUT|DELETE /functions/:name/aliases/:alias. */
import { z } from 'zod';
import { jsonBody, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { AliasService } from '../alias-service.ts';

const versionNumber = z
  .int({ error: 'must be a version number' })
  .min(1, { error: 'must be a version number' });

const aliasBody = z.strictObject({
  version: versionNumber,
  canary: z.strictObject({ version: versionNumber, weight: z.number() }).nullish(),
  description: z.string().max(256).optional(),
});

/** The alias routes. */
export function aliasRoutes(aliases: AliasService): Route[] {
  const tag = 'functions';
  const fn = (ctx: RouteContext) => ctx.params.name ?? '';
  return [
    {
      method: 'GET',
      path: '/functions/:name/aliases',
      scope: 'read',
      tag,
      summary: "A function's aliases: the version each points at and its canary (version and weight)",
      handler: async (ctx) =>
        sendJson(ctx.res, 200, { function: fn(ctx), aliases: await aliases.list(fn(ctx)) }),
    },
    {
      method: 'GET',
      path: '/functions/:name/aliases/:alias',
      scope: 'read',
      tag,
      summary: 'One alias',
      handler: async (ctx) => sendJson(ctx.res, 200, await aliases.get(fn(ctx), ctx.params.alias ?? '')),
    },
    {
      method: 'PUT',
      path: '/functions/:name/aliases/:alias',
      scope: 'deploy',
      tag,
      summary:
        'Create or replace an alias in one atomic write: {version, canary?: {version, weight}}; calls reach it at /fn/NAME@ALIAS and NAME--ALIAS.localhost',
      ...jsonBody(
        {
          schema: aliasBody,
          limit: 64 * 1024,
          what: 'alias',
          invalid: 'invalid_alias',
          example: '{"version": 3, "canary": {"version": 4, "weight": 0.1}}',
        },
        async (ctx, body) =>
          sendJson(
            ctx.res,
            200,
            await aliases.write(
              fn(ctx),
              ctx.params.alias ?? '',
              { version: body.version, canary: body.canary ?? null, description: body.description },
              'put',
            ),
          ),
      ),
    },
    {
      method: 'DELETE',
      path: '/functions/:name/aliases/:alias',
      scope: 'deploy',
      tag,
      summary: 'Delete an alias (its versions may be pruned again)',
      handler: async (ctx) => {
        await aliases.remove(fn(ctx), ctx.params.alias ?? '');
        sendJson(ctx.res, 200, { deleted: ctx.params.alias });
      },
    },
  ];
}
