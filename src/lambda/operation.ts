/**
 * One Lambda API operation, declared once: method, path, the kumo scope it needs, its body limit
 * and handler. `lambdaRoute` makes it a route of kumo's table (requirement `aws`: the front door
 * leaves it to this pipeline) and runs every request through the same stages, top to bottom:
 * read the body (within the limit) → verify the SigV4 signature (auth/aws-keys.ts) → check the
 * key's scope → handler; any error is answered in Lambda's shape (errors.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { grants, KumoError, type ApiKeyInfo, type Scope } from '../core/index.ts';
import { readBody, type Route, type RouteContext } from '../http/index.ts';
import type { SigV4Request } from '../auth/index.ts';
import type { z } from 'zod';
import { invalidContent, invalidParameter, sendLambdaError } from './errors.ts';

/** What a Lambda handler gets. */
export interface LambdaContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Buffer;
  /** The kumo key the request was signed for. */
  caller: ApiKeyInfo;
  /** The region the client signed for (shown in ARNs). */
  region: string;
  /** Lambda's request id (`x-amzn-RequestId`); an invocation's id too. */
  requestId: string;
}

/** One operation of the Lambda API. */
export interface LambdaOperation {
  /** Lambda's operation name (`Invoke`, `CreateFunction`, …), for the route summary. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  scope: Scope;
  /** Largest body in bytes. */
  bodyLimit: number;
  summary: string;
  handler: (ctx: LambdaContext) => Promise<void>;
}

/** Authenticates a signed request as a kumo key. */
export type Authenticate = (
  req: SigV4Request,
  service: string,
) => Promise<{ key: ApiKeyInfo; region: string }>;

/** The route of `op`. */
export function lambdaRoute(
  op: LambdaOperation,
  authenticate: Authenticate,
  log: (err: unknown, op: string) => void,
): Route {
  return {
    method: op.method,
    path: op.path,
    scope: 'aws',
    tag: 'lambda',
    summary: `Lambda ${op.name} (SigV4, scope ${op.scope}): ${op.summary}`,
    handler: (ctx) => run(op, ctx, authenticate, log),
  };
}

async function run(
  op: LambdaOperation,
  ctx: RouteContext,
  authenticate: Authenticate,
  log: (err: unknown, op: string) => void,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(ctx.req, op.bodyLimit, `${op.name} request body`);
    const q = ctx.url.indexOf('?');
    const { key: caller, region } = await authenticate(
      {
        method: ctx.req.method ?? 'GET',
        path: ctx.pathname,
        query: q === -1 ? '' : ctx.url.slice(q + 1),
        headers: ctx.req.headers,
        body,
      },
      'lambda',
    );
    if (!grants(caller.scopes, op.scope))
      throw new KumoError(
        'forbidden',
        `key ${caller.id} (${caller.name}) has the scopes ${caller.scopes.join(', ')}; lambda:${op.name} needs ${op.scope}`,
      );
    await op.handler({
      req: ctx.req,
      res: ctx.res,
      params: ctx.params,
      query: ctx.query,
      body,
      caller,
      region,
      requestId,
    });
  } catch (err) {
    if (!ctx.req.readableEnded) ctx.req.resume();
    if (!(err instanceof KumoError) && !(err instanceof Error && 'type' in err)) log(err, op.name);
    sendLambdaError(ctx.res, err, requestId);
  }
}

/** A JSON body validated with `schema`: InvalidRequestContentException when it is not JSON, InvalidParameterValueException naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: Buffer, what: string): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(body.length ? body.toString('utf8') : '{}');
  } catch {
    throw invalidContent(`${what}: the request body is not JSON`);
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw invalidParameter(`${what}: ${issues.join('; ')}`);
}

/** Answers with a JSON value and Lambda's request id. */
export function answer(ctx: LambdaContext, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  ctx.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'x-amzn-requestid': ctx.requestId,
  });
  ctx.res.end(body);
}
