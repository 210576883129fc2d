/**
 * The OpenAPI 3.1 document of kumo's HTTP surface, written from the route declarations (the same
 * ones the front door and the dispatch use): every route with its method, path, summary, query
 * parameters, body (JSON Schema from its zod schema) and what it needs (`x-kumo-scope` and a
 * security requirement). Served at GET /api/v1/openapi.json.
 */
import { z } from 'zod';
import { isScope, REQUIREMENT_DOCS, SCOPE_DOCS, type Requirement } from '../core/index.ts';
import type { Route } from '../http/index.ts';

/** A JSON value of the document. */
type Json = Record<string, unknown>;

/** What `*` routes (any method) are written as. */
const ANY_METHOD = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The security scheme every guarded operation names. */
const SCHEME = 'apiKey';

/** The OpenAPI 3.1 document of `routes`. */
export function openApiDocument(routes: readonly Route[], info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const { path, params } = openApiPath(route.path);
    const item = (paths[path] ??= route.host ? { servers: [FUNCTION_HOST] } : {});
    const methods = route.method === '*' ? ANY_METHOD : [route.method.toLowerCase()];
    for (const method of methods) item[method] = operation(route, method, params);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kumo',
      version: info.version,
      summary: 'Self-hosted Function-as-a-Service: the control plane under /api/v1 and the data plane',
      description:
        'Generated from the route declarations that kumo authorizes and dispatches with. Each operation says what it needs in `x-kumo-scope`: a key scope (admin grants every scope), `any` valid key, `none`, or `function`/`result` (decided by the function\'s access setting). Errors are `{"error": {"code", "message"}}`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        [SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A kumo API key, `Authorization: Bearer kumo_<id>_<secret>` (or the SharedSecret scheme). The scopes listed per operation are the key scopes it needs.',
        },
        awsSigV4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 (`AWS4-HMAC-SHA256 Credential=…`) with the AWS credentials of a kumo key (`kumo keys create --aws`): the Lambda API, as the AWS SDKs sign it.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', description: 'a stable code (README "Errors")' },
                message: { type: 'string' },
                details: {},
              },
            },
          },
        },
      },
    },
  };
}

/** The server of routes chosen by the Host header. */
const FUNCTION_HOST = {
  url: 'http://{function}.{base}',
  description: 'a function by its Host name',
  variables: {
    function: { default: 'greet', description: 'the function name' },
    base: { default: 'localhost:8080', description: "the server's base domain and port" },
  },
};

/** `/fn/:name/**` as `/fn/{name}/{path}`, with its parameters. */
function openApiPath(pattern: string): { path: string; params: Json[] } {
  const params: Json[] = [];
  let path = pattern.replace(/:([a-zA-Z]+)/g, (_m, name: string) => {
    params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    return `{${name}}`;
  });
  if (path.endsWith('/**')) {
    path = `${path.slice(0, -3)}/{path}`;
    params.push({
      name: 'path',
      in: 'path',
      required: true,
      description: 'the rest of the path, any number of segments (may be empty)',
      schema: { type: 'string' },
    });
  }
  return { path, params };
}

function operation(route: Route, method: string, pathParams: Json[]): Json {
  const op: Json = {
    operationId: operationId(method, route),
    summary: route.summary,
    description: needs(route.scope),
    tags: [route.tag],
    'x-kumo-scope': route.scope,
    security: security(route.scope),
    parameters: [...pathParams, ...queryParams(route)],
    responses: {
      '2XX': { description: 'success' },
      default: {
        description: 'an error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
  if (route.alias)
    op.description = `${needs(route.scope)} An alias of \`${route.alias.of}\`: same access, same answer.`;
  if (route.body) op.requestBody = requestBody(route.body);
  return op;
}

function operationId(method: string, route: Route): string {
  const words = route.path
    .replace(/\*\*/g, 'rest')
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean);
  return [method, ...(route.host ? ['host'] : []), ...words].join('_');
}

function needs(scope: Requirement): string {
  return isScope(scope)
    ? `Needs a key with the ${scope} scope (${SCOPE_DOCS[scope]}).`
    : `Needs ${REQUIREMENT_DOCS[scope]}.`;
}

/** `[]`: public; `[{}, …]`: a key is optional (the function decides); else a key with the scope. */
function security(scope: Requirement): Json[] {
  switch (scope) {
    case 'none':
      return [];
    case 'any':
      return [{ [SCHEME]: [] }];
    case 'function':
    case 'result':
      return [{}, { [SCHEME]: ['invoke'] }];
    case 'aws':
      return [{ awsSigV4: [] }];
    default:
      return [{ [SCHEME]: [scope] }];
  }
}

function queryParams(route: Route): Json[] {
  if (!route.query) return [];
  const schema = jsonSchema(route.query);
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const props = (schema.properties ?? {}) as Record<string, Json>;
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function requestBody(body: NonNullable<Route['body']>): Json {
  const content: Record<string, Json> = {};
  if (body.schema) content['application/json'] = { schema: jsonSchema(body.schema) };
  for (const type of body.raw ?? []) content[type] = { schema: { type: 'string', contentMediaType: type } };
  return {
    description: `${body.what}, at most ${body.limit} bytes`,
    // An empty JSON body reads as {}.
    required: body.raw !== undefined,
    content,
  };
}

/** A zod schema as JSON Schema (draft 2020-12, OpenAPI 3.1's dialect), as a request takes it. */
function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}
