/**
 * Hostile SAM templates through the deploy API: a CodeUri escaping the source (textually or
 * through a symlink), YAML bombs, unknown intrinsic functions, oversized and deeply nested
 * templates, a template path leaving the source, `__proto__` keys, and a route another function
 * serves. Each is a clear JSON error; nothing is deployed and the server stays healthy.
 */
import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiJson, deploy, startTestServer, writeFunction, type TestServer } from '../e2e/harness.ts';

type ErrorBody = { error: { code: string; message: string } };

const HEAD = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n';

/** A template with one node function whose properties are `props` (YAML flow mapping text). */
function template(props: string, extra = ''): string {
  return `${HEAD}Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: ${props}\n${extra}`;
}

const CODE = { 'code/app.mjs': 'export const handler = async () => ({ statusCode: 200, body: "ok" });\n' };

describe('hostile SAM templates', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  /** Deploys `files` with `template.yaml` as the template; expects `status` and `code`, returns the message. */
  async function refused(
    files: Record<string, string>,
    status: number,
    code: string,
    prepare?: (dir: string) => Promise<void>,
  ): Promise<string> {
    const dir = await writeFunction(files);
    await prepare?.(dir);
    const started = Date.now();
    const res = await deploy(server, dir, 'template=template.yaml');
    assert.equal(res.status, status, JSON.stringify(res.body));
    const error = (res.body as ErrorBody).error;
    assert.equal(error.code, code, error.message);
    assert.ok(Date.now() - started < 20_000, 'refused promptly');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const list = await apiJson<{ functions: { name: string }[] }>(server, '/functions');
    assert.ok(!list.functions.some((f) => f.name === 'fn'), 'nothing was deployed');
    return error.message;
  }

  test('a CodeUri leaving the template folder is refused', async () => {
    for (const uri of ['../../etc', '/etc', 'code/../../..', 's3://bucket/code.zip']) {
      const message = await refused(
        {
          'template.yaml': template(`{ CodeUri: "${uri}", Handler: app.handler, Runtime: nodejs22.x }`),
          ...CODE,
        },
        400,
        'invalid_manifest',
      );
      assert.match(message, /CodeUri/);
    }
  });

  test('a CodeUri through a symlink leaving the source is refused', async () => {
    for (const target of ['/etc', '../../..']) {
      const message = await refused(
        { 'template.yaml': template('{ CodeUri: link, Handler: app.handler, Runtime: nodejs22.x }') },
        400,
        'invalid_archive',
        (dir) => symlink(target, path.join(dir, 'link')),
      );
      assert.match(message, /link/);
    }
  });

  test('a YAML bomb (nested aliases) is refused without expanding it', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const rss = process.memoryUsage().rss;
    const message = await refused(
      {
        'template.yaml': `${HEAD}${levels.join('\n')}\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: { CodeUri: code, Handler: app.handler, Runtime: nodejs22.x, Description: *l }\n`,
        ...CODE,
      },
      400,
      'invalid_manifest',
    );
    assert.match(message, /expands to more than \d+ values/);
    assert.ok(process.memoryUsage().rss - rss < 300 * 1024 * 1024, 'the server did not expand it');
  });

  test('unknown intrinsic functions are refused naming the field; unresolvable ones in Environment are listed as ignored', async () => {
    const bogus = await refused(
      {
        'template.yaml': template('{ CodeUri: code, Handler: !Bogus app.handler, Runtime: nodejs22.x }'),
        ...CODE,
      },
      400,
      'invalid_manifest',
    );
    assert.match(bogus, /Handler uses "Fn::Bogus", which is not a CloudFormation intrinsic function/);
    const needed = await refused(
      {
        'template.yaml': template('{ CodeUri: code, Handler: app.handler, Runtime: !GetAtt Some.Runtime }'),
        ...CODE,
      },
      400,
      'invalid_manifest',
    );
    assert.match(needed, /Runtime uses Fn::GetAtt, which kumo cannot resolve/);
  });

  test('oversized, deeply nested, non-SAM and out-of-source templates are refused', async () => {
    assert.match(
      await refused(
        { 'template.yaml': `${HEAD}# ${'x'.repeat(1024 * 1024)}\n`, ...CODE },
        400,
        'invalid_manifest',
      ),
      /larger than/,
    );
    assert.match(
      await refused(
        { 'template.yaml': `${HEAD}Deep: ${'['.repeat(2000)}${']'.repeat(2000)}\n`, ...CODE },
        400,
        'invalid_manifest',
      ),
      /nested deeper|not valid YAML/,
    );
    assert.match(
      await refused({ 'template.yaml': 'Resources: {}\n', ...CODE }, 400, 'invalid_manifest'),
      /not a SAM template/,
    );
    const dir = await writeFunction(CODE);
    const outside = await deploy(server, dir, 'template=../../etc/passwd');
    assert.equal(outside.status, 400);
    assert.match((outside.body as ErrorBody).error.message, /must be a file of the source/);
  });

  test('__proto__ keys do not pollute anything and are reported as ignored', async () => {
    const dir = await writeFunction({
      'template.yaml': template(
        '{ CodeUri: code, Handler: app.handler, Runtime: nodejs22.x, FunctionName: proto-fn, __proto__: { polluted: true }, Environment: { Variables: { __proto__: x } } }',
      ),
      ...CODE,
    });
    const res = await deploy(server, dir, 'template=template.yaml');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const ignored = res.body.ignored as string[];
    assert.ok(ignored.includes('Fn.__proto__'), ignored.join(', '));
    assert.ok(
      ignored.some((i) => i.startsWith('Fn.Environment.Variables.__proto__')),
      ignored.join(', '),
    );
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });

  test('a route another function serves is refused with 409 before anything is deployed', async () => {
    const route = 'Events: { Get: { Type: HttpApi, Properties: { Path: /taken, Method: GET } } }';
    const first = await writeFunction({
      'template.yaml': template(
        `{ CodeUri: code, Handler: app.handler, Runtime: nodejs22.x, FunctionName: owner, ${route} }`,
      ),
      ...CODE,
    });
    assert.equal((await deploy(server, first, 'template=template.yaml')).status, 201);
    const message = await refused(
      {
        'template.yaml': template(
          `{ CodeUri: code, Handler: app.handler, Runtime: nodejs22.x, FunctionName: fn, ${route} }`,
        ),
        ...CODE,
      },
      409,
      'route_conflict',
    );
    assert.match(message, /GET \/taken is served by function owner/);
    assert.equal((await fetch(`${server.url}/routes/taken`)).status, 200, 'the owner keeps its route');
    const bad = await refused(
      {
        'template.yaml': template(
          '{ CodeUri: code, Handler: app.handler, Runtime: nodejs22.x, Events: { E: { Type: Api, Properties: { Path: "/{a+}/b", Method: get } } } }',
        ),
        ...CODE,
      },
      400,
      'invalid_route',
    );
    assert.match(bad, /must be the last segment/);
  });
});
