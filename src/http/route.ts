/**
 * A route declares everything about itself in one place: method, path, who may call it, the
 * schema of its body and query, a one-line summary, and its handler. The front door
 * (auth/access-guard.ts) applies `scope`, the request pipeline (server-routes.ts) validates the
 * query and `jsonBody` the body, and the OpenAPI document (api/openapi.ts) is written from the
 * same declarations. Nothing else says who may call a route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { KumoError, type ErrorCode, type Requirement } from '../core/index.ts';
import { readBody } from './body.ts';

/** What a handler receives. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters by name (`:name` → `name`, decoded); a Host-routed request has `name` too. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request target as received (path and query). */
  url: string;
  pathname: string;
}

/** A route handler; it answers on ctx.res. */
export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

/** The body a route takes. */
export interface BodyDecl {
  /** The JSON body's schema, when it takes one (validated by `jsonBody`, documented as JSON Schema). */
  schema?: z.ZodType;
  /** Other media types it takes (an archive, a raw secret value), read by the handler itself. */
  raw?: readonly string[];
  /** Largest body, in bytes. */
  limit: number;
  /** What the body is, in messages (`schedule: "cron" must be …`) and in the API description. */
  what: string;
  /** The error code of an invalid JSON body (bad_request unless the domain has its own). */
  invalid?: ErrorCode;
  /** A valid body, shown in the "must be JSON like …" message. */
  example?: string;
}

/** One declared route: it either handles the request or is an alias of another route. */
export type Route = RouteDecl &
  ({ handler: RouteHandler; alias?: undefined } | { alias: RouteAlias; handler?: undefined });

/**
 * An alias of another declared route (`of`, its path): the request is rewritten to `rewrite`'s URL
 * and routed again, so it gets exactly the target's access and answer (undefined: no route).
 */
export interface RouteAlias {
  of: string;
  rewrite: (ctx: RouteContext) => string | undefined;
}

/** What every declaration says. */
export interface RouteDecl {
  /** An HTTP method, or `*` for any (HEAD is matched as GET). */
  method: string;
  /** Full path pattern: `:param` is one segment, a trailing `/**` any rest (or none). */
  path: string;
  /** Matched only when the Host header names a function (`NAME.<base domain>`), then on every path. */
  host?: boolean;
  /** Who may call it. */
  scope: Requirement;
  /** One line saying what it does. */
  summary: string;
  /** Its group in the API description (functions, keys, invocations, …). */
  tag: string;
  body?: BodyDecl;
  /** Query parameters (an object of optional strings, as a URL carries them); checked before the handler. */
  query?: z.ZodObject;
}

/**
 * The body part of a declaration for a route taking a JSON body: the pipeline stage that reads
 * it (within `limit`), parses it and validates it with `schema` (400 naming the field), then
 * calls `handler` with the typed value. An empty body reads as `{}`.
 */
export function jsonBody<S extends z.ZodType>(
  decl: Omit<BodyDecl, 'schema' | 'raw'> & { schema: S },
  handler: (ctx: RouteContext, body: z.output<S>) => Promise<void> | void,
): { body: BodyDecl; handler: RouteHandler } {
  return {
    body: decl,
    handler: async (ctx) => handler(ctx, decodeJson(decl, await readBody(ctx.req, decl.limit, decl.what))),
  };
}

/** A JSON body validated with `decl.schema`; bad_request (or `decl.invalid`) naming the field otherwise. */
export function decodeJson<S extends z.ZodType>(
  decl: Pick<BodyDecl, 'what' | 'invalid' | 'example'> & { schema: S },
  raw: Buffer,
): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(raw.length ? raw.toString('utf8') : '{}');
  } catch {
    throw new KumoError(
      'bad_request',
      `${decl.what}: the body must be JSON${decl.example ? ` like ${decl.example}` : ''}`,
    );
  }
  const parsed = decl.schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (i) => `${i.path.length ? `"${i.path.join('.')}" ` : ''}${i.message}`,
  );
  throw new KumoError(decl.invalid ?? 'bad_request', `${decl.what}: ${issues.join('; ')}`, { issues });
}

/** Query parameters checked against a route's schema; bad_request naming the parameter otherwise. */
export function checkQuery(schema: z.ZodObject, query: URLSearchParams): void {
  const parsed = schema.safeParse(Object.fromEntries(query));
  if (parsed.success) return;
  const issue = parsed.error.issues[0];
  const name = issue?.path.length ? `"${issue.path.join('.')}" ` : '';
  throw new KumoError('bad_request', `query parameter ${name}${issue?.message ?? 'is invalid'}`);
}

/** A query schema of optional string parameters, each with its description (for the API description). */
export function queryOf(params: Record<string, string>): z.ZodObject {
  return z.object(
    Object.fromEntries(
      Object.entries(params).map(([name, doc]) => [name, z.string().optional().describe(doc)]),
    ),
  );
}
