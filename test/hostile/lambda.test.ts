/**
 * The Lambda API and aliases under attack: oversized and malformed bodies, forged and malformed
 * signatures, keys without the scope, alias weights out of range, names with odd characters.
 * Every refusal is a clear JSON error in Lambda's (or kumo's) shape, and the server stays healthy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { canonicalRequest, isoBasic, sha256Hex, signature } from '../../src/auth/sigv4.ts';
import {
  api,
  invoke,
  mustDeploy,
  raw,
  startTestServer,
  writeFunction,
  type TestServer,
} from '../e2e/harness.ts';
import { awsKey, lambdaClient } from '../e2e/lambda-helpers.ts';

type Key = { id: string; accessKeyId: string; secretAccessKey: string };

/** A request signed with `key` as an SDK would (or with `tamper` applied after signing). */
async function signed(
  server: TestServer,
  key: Key,
  method: string,
  path: string,
  body: Buffer | string = '',
  tamper: (h: Record<string, string>) => Buffer | undefined = () => undefined,
): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> {
  const bytes = Buffer.from(body);
  const url = new URL(path, server.url);
  const amzDate = isoBasic(Date.now());
  const headers: Record<string, string> = { host: url.host, 'x-amz-date': amzDate };
  const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 'lambda' };
  const canonical = canonicalRequest(
    { method, path: url.pathname, query: url.search.slice(1), headers, body: bytes },
    ['host', 'x-amz-date'],
    sha256Hex(bytes),
  );
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/${scope.date}/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature(key.secretAccessKey, scope, amzDate, canonical)}`;
  const sent = tamper(headers) ?? bytes;
  const res = await fetch(url, {
    method,
    headers: { ...headers, host: '' },
    ...(method === 'GET' ? {} : { body: sent }),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('x-amzn-errortype'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('hostile: the Lambda API and aliases', () => {
  let server: TestServer;
  let admin: Key;
  const healthy = async () => assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  before(async () => {
    server = await startTestServer(['--body-limit', '1', '--upload-limit', '1']);
    admin = await awsKey(server, ['admin']);
    for (const n of [1, 2])
      await mustDeploy(
        server,
        await writeFunction({
          'kumo.yaml': 'name: target\nstyle: lambda\nhandler: index.handler\n',
          'index.mjs': `export const handler = async (e) => ({ v: ${n}, e });\n`,
        }),
      );
  });
  after(() => server.dispose());

  test('an Invoke body over the limit is 413 RequestTooLargeException, before any signature work', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const r = await signed(server, admin, 'POST', '/2015-03-31/functions/target/invocations', big);
    assert.deepEqual([r.status, r.type], [413, 'RequestTooLargeException']);
    assert.equal(typeof r.body.message, 'string');
    const unsigned = await fetch(`${server.url}/2015-03-31/functions/target/invocations`, {
      method: 'POST',
      body: big,
    });
    assert.equal(unsigned.status, 413);
    await healthy();
  });

  test('malformed JSON bodies and zips are InvalidRequestContent / InvalidParameterValue', async () => {
    const cases: [string, string, string | Buffer, string][] = [
      ['POST', '/2015-03-31/functions', '{"FunctionName":', 'InvalidRequestContentException'],
      ['POST', '/2015-03-31/functions', '[]', 'InvalidParameterValueException'],
      [
        'POST',
        '/2015-03-31/functions',
        JSON.stringify({
          FunctionName: 'z',
          Runtime: 'nodejs22.x',
          Code: { ZipFile: Buffer.from('not a zip').toString('base64') },
        }),
        'InvalidParameterValueException',
      ],
      [
        'POST',
        '/2015-03-31/functions',
        JSON.stringify({ FunctionName: 'z', Runtime: 'nodejs22.x', Code: { ZipFile: 12 } }),
        'InvalidParameterValueException',
      ],
      [
        'POST',
        '/2015-03-31/functions',
        JSON.stringify({ FunctionName: 'z', Runtime: 'nodejs22.x', MemorySize: 1e12, Code: { ZipFile: '' } }),
        'InvalidParameterValueException',
      ],
      ['POST', '/2015-03-31/functions/target/invocations', '{"a":', 'InvalidRequestContentException'],
      ['POST', '/2015-03-31/functions/target/aliases', '{"Name":"x"}', 'InvalidParameterValueException'],
      ['PUT', '/2015-03-31/functions/target/configuration', '"str"', 'InvalidParameterValueException'],
    ];
    for (const [method, path, body, type] of cases) {
      const r = await signed(server, admin, method, path, body);
      assert.equal(r.type, type, `${method} ${path} ${String(body).slice(0, 60)}: ${JSON.stringify(r.body)}`);
      assert.ok(r.status >= 400 && r.status < 500);
      assert.equal(typeof r.body.Message, 'string');
    }
    await healthy();
  });

  test('forged and malformed signatures are 403 and never run anything', async () => {
    const path = '/2015-03-31/functions/target/invocations';
    const forged: ((h: Record<string, string>) => Buffer | undefined)[] = [
      (h) =>
        void (h.authorization = String(h.authorization).replace(
          /Signature=\w+/,
          `Signature=${'f'.repeat(64)}`,
        )),
      (h) => void (h.authorization = 'AWS4-HMAC-SHA256 Credential=/../../, SignedHeaders=host, Signature=zz'),
      (h) => void (h.authorization = `AWS4-HMAC-SHA256 ${'Credential='.repeat(500)}`),
      (h) =>
        void (h.authorization = String(h.authorization).replace(
          'SignedHeaders=host;x-amz-date',
          'SignedHeaders=x-amz-date',
        )),
      (h) => void (h.authorization = String(h.authorization).replace('/lambda/', '/s3/')),
      (h) => void (h['x-amz-date'] = '20000101T000000Z'),
      (h) => void (h['x-amz-date'] = 'yesterday'),
      () => Buffer.from('{"swapped":true}'),
      (h) => void (h['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'),
    ];
    for (const tamper of forged) {
      const r = await signed(server, admin, 'POST', path, '{"a":1}', tamper);
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.ok(
        r.type === 'InvalidSignatureException' || r.type === 'UnrecognizedClientException',
        String(r.type),
      );
    }
    const bare = await fetch(`${server.url}${path}`, { method: 'POST', body: '{}' });
    assert.equal(bare.status, 403);
    const history = (await (await api(server, '/history?function=target')).json()) as {
      invocations: unknown[];
    };
    assert.equal(history.invocations.length, 0, 'no forged request ran the function');
    await healthy();
  });

  test('keys without the scope are AccessDeniedException and change nothing', async () => {
    const reader = await awsKey(server, ['read']);
    const invoker = await awsKey(server, ['invoke']);
    assert.equal(
      (await signed(server, reader, 'POST', '/2015-03-31/functions/target/invocations', '{}')).type,
      'AccessDeniedException',
    );
    assert.equal(
      (await signed(server, invoker, 'DELETE', '/2015-03-31/functions/target')).type,
      'AccessDeniedException',
    );
    const alias = await signed(
      server,
      reader,
      'POST',
      '/2015-03-31/functions/target/aliases',
      JSON.stringify({ Name: 'x', FunctionVersion: '1' }),
    );
    assert.deepEqual([alias.status, alias.type], [403, 'AccessDeniedException']);
    assert.equal((await api(server, '/functions/target')).status, 200);
    assert.equal((await api(server, '/functions/target/aliases/x')).status, 404);
    // And a kumo key (Bearer) is not an AWS signature.
    const bearer = await fetch(`${server.url}/2015-03-31/functions/`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    assert.equal(bearer.status, 403);
    await healthy();
  });

  test('alias weights out of range and odd alias names are refused with invalid_alias', async () => {
    const put = (alias: string, body: unknown) =>
      api(server, `/functions/target/aliases/${alias}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const canary of [
      { version: 2, weight: -0.1 },
      { version: 2, weight: 1 },
      { version: 2, weight: 7 },
      { version: 2, weight: '0.5' },
      { version: 2, weight: null },
      { version: 2.5, weight: 0.1 },
      { version: 99, weight: 0.1 },
    ]) {
      const res = await put('live', { version: 1, canary });
      assert.equal(res.status, 400, JSON.stringify(canary));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_alias');
    }
    const huge = await api(server, '/functions/target/aliases/live', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"version": 1, "canary": {"version": 2, "weight": 1e999}}',
    });
    assert.equal(huge.status, 400);
    for (const name of [
      'LIVE',
      'a--b',
      '-a',
      'a-',
      '1abc',
      'a'.repeat(33),
      'a%20b',
      '%2e%2e',
      'caf%C3%A9',
      'a_b%00',
    ]) {
      const res = await put(name, { version: 1 });
      // `%2e%2e` is `..`: the client resolves it before sending, so it reaches PUT /functions/target (405).
      assert.ok([400, 404, 405].includes(res.status), `${name}: ${res.status}`);
      const body = (await res.json()) as { error: { code: string } };
      assert.ok(
        ['invalid_alias', 'route_not_found', 'method_not_allowed'].includes(body.error.code),
        `${name}: ${body.error.code}`,
      );
    }
    const lambdaWeight = await signed(
      server,
      admin,
      'POST',
      '/2015-03-31/functions/target/aliases',
      JSON.stringify({
        Name: 'w',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 2, '1': 0.5 } },
      }),
    );
    assert.equal(lambdaWeight.type, 'InvalidParameterValueException');
    await healthy();
  });

  test('odd function names and qualifiers in paths and FunctionName are 4xx JSON, never a crash', async () => {
    const client = lambdaClient(server, admin);
    for (const name of [
      '../../etc/passwd',
      'a:b:c:d:e:f:g:h:i',
      'x'.repeat(200),
      'target:%00',
      'target:LIVE',
      'arn:aws:lambda:x:y:function:',
    ]) {
      let status: number | undefined;
      try {
        await client.send(new GetFunctionCommand({ FunctionName: name }));
      } catch (err) {
        status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      }
      assert.ok(status !== undefined && status >= 400 && status < 500, `${name}: ${status}`);
    }
    for (const q of ['%00', '..', 'a/b', 'x'.repeat(300), '$LATEST%20', '0', '-1', '99999999999']) {
      const res = await invoke(server, `target@${q}`, '/');
      assert.ok(res.status === 404 || res.status === 400, `@${q}: ${res.status}`);
      assert.equal(typeof ((await res.json()) as { error: { code: string } }).error.code, 'string');
    }
    const host = await raw(server.url, { path: '/', headers: { host: 'target--no-such.localhost' } });
    assert.equal(host.status, 404);
    assert.equal(
      (JSON.parse(host.body.toString()) as { error: { code: string } }).error.code,
      'alias_not_found',
    );
    const ok = await client.send(new InvokeCommand({ FunctionName: 'target', Payload: '{"k":1}' }));
    assert.equal(ok.StatusCode, 200);
    await healthy();
  });
});
