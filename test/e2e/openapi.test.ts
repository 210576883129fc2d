/**
 * GET /api/v1/openapi.json: written from the same declarations that GET /api/v1/scopes lists and
 * the front door applies. Every declared route is in it with its scope, and it is valid OpenAPI
 * 3.1 — checked with @seriousme/openapi-schema-validator (a devDependency) and structurally by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { apiJson, startTestServer, type TestServer } from './harness.ts';

interface RouteAccess {
  method: string;
  path: string;
  scope: string;
  summary: string;
}

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `/fn/:name/**` as the document writes it. */
const openApiPath = (path: string) => path.replace(/:([a-zA-Z]+)/g, '{$1}').replace(/\/\*\*$/, '/{path}');

describe('the OpenAPI document', () => {
  let server: TestServer;
  let doc: Json;
  let routes: RouteAccess[];

  before(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200, 'public: no key needed');
    doc = (await res.json()) as Json;
    routes = (await apiJson<{ routes: RouteAccess[] }>(server, '/scopes')).routes;
  });
  after(() => server.dispose());

  test('every declared route is in it with its scope, summary and security', () => {
    const paths = doc.paths as Record<string, Record<string, Json>>;
    assert.ok(routes.length > 40, `${routes.length} routes`);
    for (const r of routes) {
      const item = paths[openApiPath(r.path)];
      assert.ok(item, `${r.path} is in the document`);
      for (const method of r.method === '*' ? ['get', 'post', 'delete'] : [r.method.toLowerCase()]) {
        const op: Json | undefined = item[method];
        assert.ok(op, `${r.method} ${r.path} is in the document`);
        assert.equal(op['x-kumo-scope'], r.scope, `${r.method} ${r.path}`);
        assert.equal(op.summary, r.summary);
        const security = op.security as Json[];
        if (r.scope === 'none') assert.deepEqual(security, []);
        else if (r.scope === 'any') assert.deepEqual(security, [{ apiKey: [] }]);
        else if (r.scope === 'function' || r.scope === 'result')
          assert.deepEqual(security, [{}, { apiKey: ['invoke'] }]);
        // The Lambda API: an AWS Signature Version 4 made with a kumo key's AWS credentials.
        else if (r.scope === 'aws') assert.deepEqual(security, [{ awsSigV4: [] }]);
        else assert.deepEqual(security, [{ apiKey: [r.scope] }]);
      }
    }
    const operations = Object.values(paths).flatMap((item) => METHODS.filter((m) => item[m]));
    const declared = routes.reduce((n, r) => n + (r.method === '*' ? 7 : 1), 0);
    assert.equal(operations.length, declared, 'nothing in the document that is not declared');
  });

  test('JSON bodies carry the JSON Schema of their zod schema', () => {
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const body = (path: string, method: string) =>
      ((paths[path]?.[method]?.requestBody as Json).content as Record<string, { schema: Json }>)[
        'application/json'
      ]?.schema;
    const key = body('/api/v1/keys', 'post');
    assert.deepEqual(key?.required, ['scopes']);
    assert.equal(key?.additionalProperties, false);
    assert.ok(body('/api/v1/functions/{name}/schedules', 'post')?.properties, 'schedule');
    assert.ok(body('/api/v1/functions/{name}/rollback', 'post')?.properties, 'rollback');
    const deploy = (paths['/api/v1/functions']?.post?.requestBody as Json).content as Json;
    assert.deepEqual(Object.keys(deploy).sort(), ['application/gzip', 'application/json', 'application/zip']);
  });

  test('it is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    checkStructure(doc);
  });
});

/** What OpenAPI 3.1 requires of this document, checked by hand. */
function checkStructure(doc: Json): void {
  assert.equal(doc.openapi, '3.1.0');
  const info = doc.info as Json;
  assert.equal(typeof info.title, 'string');
  assert.equal(typeof info.version, 'string');
  const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
  const tags = new Set((doc.tags as { name: string }[]).map((t) => t.name));
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    assert.ok(path.startsWith('/'), path);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const where = `${method} ${path}`;
      assert.equal(typeof op.operationId, 'string', where);
      assert.ok(!ids.has(op.operationId as string), `operationId ${String(op.operationId)} is unique`);
      ids.add(op.operationId as string);
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${where} has responses`);
      for (const [code, response] of Object.entries(op.responses as Record<string, Json>)) {
        assert.match(code, /^(default|[1-5](XX|\d\d))$/, where);
        assert.equal(typeof response.description, 'string', `${where} ${code}`);
      }
      const params = (op.parameters ?? []) as Json[];
      for (const name of templated) {
        const p = params.find((x) => x.in === 'path' && x.name === name);
        assert.ok(p && p.required === true, `${where}: path parameter ${name} is defined and required`);
      }
      for (const p of params) {
        assert.ok(['query', 'header', 'path', 'cookie'].includes(p.in as string), where);
        assert.ok(p.schema || p.content, `${where}: parameter ${String(p.name)} has a schema`);
      }
      const seen = new Set(params.map((p) => `${String(p.in)} ${String(p.name)}`));
      assert.equal(seen.size, params.length, `${where}: parameters are unique`);
      for (const requirement of op.security as Json[])
        for (const scheme of Object.keys(requirement))
          assert.ok(schemes[scheme], `${where}: ${scheme} is defined`);
      for (const tag of op.tags as string[]) assert.ok(tags.has(tag), `${where}: tag ${tag} is listed`);
      if (op.requestBody) assert.ok(Object.keys((op.requestBody as Json).content as Json).length > 0, where);
    }
  }
  // Every $ref resolves inside the document.
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const ref of refs) {
    const pointer = ref.slice(8, -1);
    assert.ok(pointer.startsWith('#/'), pointer);
    let at: unknown = doc;
    for (const part of pointer.slice(2).split('/')) at = (at as Json)[part];
    assert.ok(at, `${pointer} resolves`);
  }
}
