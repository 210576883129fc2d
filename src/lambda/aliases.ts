/**
 * The alias operations: CreateAlias, UpdateAlias, GetAlias, DeleteAlias, ListAliases, on kumo's
 * aliases (api/alias-service.ts: one atomic write each). `RoutingConfig.AdditionalVersionWeights`
 * is kumo's canary: one extra version and its share. An alias of `$LATEST` points at the version
 * `$LATEST` runs when it is written (kumo aliases name version numbers).
 */
import { z } from 'zod';
import type { AliasInput, AliasService } from '../api/index.ts';
import type { ActiveVersions } from '../store/index.ts';
import { invalidParameter } from './errors.ts';
import { answer, parseBody as parse, type LambdaContext } from './operation.ts';
import { aliasConfiguration, parseFunctionName } from './shapes.ts';

const routing = z
  .looseObject({ AdditionalVersionWeights: z.record(z.string(), z.number()).optional() })
  .optional();

const createBody = z.looseObject({
  Name: z.string().min(1).max(128),
  FunctionVersion: z.string().min(1).max(1024),
  Description: z.string().max(256).optional(),
  RoutingConfig: routing,
});

const updateBody = z.looseObject({
  FunctionVersion: z.string().min(1).max(1024).optional(),
  Description: z.string().max(256).optional(),
  RoutingConfig: routing,
  RevisionId: z.string().optional(),
});

/** What the alias operations need. */
export interface AliasOpsDeps {
  aliases: AliasService;
  versions: ActiveVersions;
}

/** The alias operations' handlers. */
export function aliasOps(d: AliasOpsDeps) {
  const fnOf = (ctx: LambdaContext) => parseFunctionName(ctx.params.name ?? '', null).name;
  const version = (fn: string, text: string): number => {
    if (text === '$LATEST') {
      const active = d.versions.get(fn);
      if (!active) throw invalidParameter(`function ${fn} has no $LATEST version`);
      return active.version;
    }
    if (!/^[1-9]\d{0,9}$/.test(text))
      throw invalidParameter(
        `FunctionVersion ${JSON.stringify(text.slice(0, 40))} must be a version number or $LATEST`,
      );
    return Number(text);
  };
  const canary = (fn: string, config: z.output<typeof routing>): AliasInput['canary'] => {
    if (!config) return undefined;
    const weights = Object.entries(config.AdditionalVersionWeights ?? {}).filter(([, w]) => w !== 0);
    if (weights.length > 1) throw invalidParameter('kumo routes an alias to at most one additional version');
    const [entry] = weights;
    return entry ? { version: version(fn, entry[0]), weight: entry[1] } : null;
  };
  const send = (ctx: LambdaContext, status: number, a: Parameters<typeof aliasConfiguration>[0]) =>
    answer(ctx, status, aliasConfiguration(a, ctx.region));
  return {
    create: async (ctx: LambdaContext) => {
      const fn = fnOf(ctx);
      const body = parse(createBody, ctx.body, 'CreateAlias');
      const input: AliasInput = {
        version: version(fn, body.FunctionVersion),
        description: body.Description ?? '',
      };
      const c = canary(fn, body.RoutingConfig);
      if (c !== undefined) input.canary = c;
      send(ctx, 201, await d.aliases.write(fn, body.Name, input, 'create'));
    },
    update: async (ctx: LambdaContext) => {
      const fn = fnOf(ctx);
      const body = parse(updateBody, ctx.body, 'UpdateAlias');
      const input: Partial<AliasInput> = {};
      if (body.FunctionVersion !== undefined) input.version = version(fn, body.FunctionVersion);
      if (body.Description !== undefined) input.description = body.Description;
      const c = canary(fn, body.RoutingConfig);
      if (c !== undefined) input.canary = c;
      send(ctx, 200, await d.aliases.write(fn, ctx.params.alias ?? '', input, 'update'));
    },
    get: async (ctx: LambdaContext) => send(ctx, 200, await d.aliases.get(fnOf(ctx), ctx.params.alias ?? '')),
    remove: async (ctx: LambdaContext) => {
      await d.aliases.remove(fnOf(ctx), ctx.params.alias ?? '');
      ctx.res.writeHead(204, { 'x-amzn-requestid': ctx.requestId });
      ctx.res.end();
    },
    list: async (ctx: LambdaContext) => {
      const all = await d.aliases.list(fnOf(ctx));
      answer(ctx, 200, { Aliases: all.map((a) => aliasConfiguration(a, ctx.region)) });
    },
  };
}
