/**
 * The Lambda API through the unmodified @aws-sdk/client-lambda: every operation kumo answers,
 * its errors, and SigV4 with kumo keys (wrong secret, unknown key, revoked key, missing scope).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  api,
  apiJson,
  dumpPostgres,
  eventually,
  kumo,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';
import { awsKey, lambdaClient, zipOf } from './lambda-helpers.ts';

const ROLE = 'arn:aws:iam::123456789012:role/lambda';
const NODE_CODE = `export const handler = async (event, context) => {
  console.log('event ' + JSON.stringify(event));
  if (event.fail) throw new TypeError('boom: ' + event.fail);
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  return { hello: event.name ?? null, greeting: process.env.GREETING ?? null, version: context.functionVersion };
};
`;
const PY_CODE = `import os
def handler(event, context):
    print("python got", event)
    if event.get("fail"):
        raise ValueError("bad " + str(event["fail"]))
    return {"py": event.get("name"), "memory": context.memory_limit_in_mb if hasattr(context, "memory_limit_in_mb") else None}
`;

/** The error an SDK call throws (name, status, message). */
async function sdkError(
  p: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the call succeeded');
}

const json = (payload: Uint8Array | undefined) =>
  JSON.parse(Buffer.from(payload ?? []).toString()) as Record<string, unknown>;

describe('the Lambda API through @aws-sdk/client-lambda', () => {
  let server: TestServer;
  let client: LambdaClient;
  before(async () => {
    server = await startTestServer();
    client = lambdaClient(server, await awsKey(server, ['admin']));
    await client.send(
      new CreateFunctionCommand({
        FunctionName: 'hello',
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Description: 'says hello',
        MemorySize: 256,
        Timeout: 4,
        Environment: { Variables: { GREETING: 'hi' } },
        Code: { ZipFile: zipOf({ 'index.mjs': NODE_CODE }) },
      }),
    );
  });
  after(() => server.dispose());

  test('kumo keys create --aws prints the AWS credentials once; the secret is stored sealed', async () => {
    const out = await kumo(server.url, ['keys', 'create', '--scope', 'invoke', '--aws', '--json']);
    assert.equal(out.code, 0, out.stderr);
    const created = JSON.parse(out.stdout) as { awsAccessKeyId: string; awsSecretAccessKey: string };
    assert.match(created.awsAccessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(created.awsSecretAccessKey.length, 40);
    const human = await kumo(server.url, ['keys', 'create', '--scope', 'read', '--aws']);
    assert.match(human.stdout, /^AWS_ACCESS_KEY_ID=AKIA/m);
    const db = path.join(server.dataDir, 'kumo.db');
    const stored = server.storeUrl
      ? await dumpPostgres(server.storeUrl)
      : Buffer.concat([
          await readFile(db),
          await readFile(`${db}-wal`).catch(() => Buffer.alloc(0)),
        ]).toString('latin1');
    assert.ok(stored.includes(created.awsAccessKeyId));
    assert.ok(!stored.includes(created.awsSecretAccessKey), 'the secret is not stored in the clear');
    // The key works with its scope: invoke yes, read no.
    const invoker = lambdaClient(server, {
      accessKeyId: created.awsAccessKeyId,
      secretAccessKey: created.awsSecretAccessKey,
    });
    assert.equal((await invoker.send(new InvokeCommand({ FunctionName: 'hello' }))).StatusCode, 200);
    const denied = await sdkError(invoker.send(new GetFunctionCommand({ FunctionName: 'hello' })));
    assert.deepEqual([denied.name, denied.status], ['AccessDeniedException', 403]);
  });

  test('CreateFunction (nodejs) and Invoke: payload in, JSON out, Tail, executed version', async () => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'hello', Payload: JSON.stringify({ name: 'ada' }), LogType: 'Tail' }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(json(out.Payload), { hello: 'ada', greeting: 'hi', version: '1' });
    assert.equal(out.ExecutedVersion, '1');
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString();
    assert.match(log, /^START RequestId: \S+ Version: 1$/m);
    assert.match(log, /event \{"name":"ada"\}/);
    assert.match(log, /^REPORT RequestId: /m);
  });

  test("a handler error is 200 with X-Amz-Function-Error: Unhandled and Lambda's error payload", async () => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'hello', Payload: JSON.stringify({ fail: 'x' }) }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const payload = json(out.Payload);
    assert.equal(payload.errorType, 'TypeError');
    assert.equal(payload.errorMessage, 'boom: x');
    const timedOut = await client.send(
      new InvokeCommand({ FunctionName: 'hello', Payload: JSON.stringify({ sleep: 6000 }) }),
    );
    assert.equal(timedOut.FunctionError, 'Unhandled');
    assert.equal(json(timedOut.Payload).errorType, 'Sandbox.Timedout');
  });

  test('Event invocations go through the durable queue; DryRun only checks', async () => {
    const ev = await client.send(
      new InvokeCommand({
        FunctionName: 'hello',
        InvocationType: 'Event',
        Payload: JSON.stringify({ name: 'later' }),
      }),
    );
    assert.equal(ev.StatusCode, 202);
    const id = ev.$metadata.requestId ?? '';
    const done = await eventually(async () => {
      const r = await apiJson<{ status: string; trigger: string; response: { body: string } | null }>(
        server,
        `/invocations/${id}`,
      );
      return r.status === 'succeeded' ? r : undefined;
    });
    assert.equal(done.trigger, 'async');
    assert.deepEqual(JSON.parse(done.response?.body ?? '{}'), {
      hello: 'later',
      greeting: 'hi',
      version: '1',
    });
    const dry = await client.send(new InvokeCommand({ FunctionName: 'hello', InvocationType: 'DryRun' }));
    assert.equal(dry.StatusCode, 204);
  });

  test('CreateFunction (python3) runs a python handler(event, context)', async () => {
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: 'snake',
        Runtime: 'python3.12',
        Role: ROLE,
        Handler: 'app.handler',
        Code: { ZipFile: zipOf({ 'app.py': PY_CODE }) },
      }),
    );
    assert.equal(created.Runtime, 'python3.12');
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'snake', Payload: JSON.stringify({ name: 'py' }) }),
    );
    assert.equal(json(out.Payload).py, 'py');
    const err = await client.send(
      new InvokeCommand({ FunctionName: 'snake', Payload: JSON.stringify({ fail: 1 }) }),
    );
    assert.equal(err.FunctionError, 'Unhandled');
    assert.deepEqual([json(err.Payload).errorType, json(err.Payload).errorMessage], ['ValueError', 'bad 1']);
  });

  test('GetFunction, GetFunctionConfiguration and ListFunctions show the configuration', async () => {
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'hello' }));
    assert.equal(got.Configuration?.FunctionName, 'hello');
    assert.equal(got.Configuration?.Runtime, 'nodejs22.x');
    assert.equal(got.Configuration?.Handler, 'index.handler');
    assert.equal(got.Configuration?.MemorySize, 256);
    assert.equal(got.Configuration?.Timeout, 4);
    assert.equal(got.Configuration?.Description, 'says hello');
    assert.deepEqual(got.Configuration?.Environment?.Variables, { GREETING: 'hi' });
    assert.equal(got.Configuration?.Version, '$LATEST');
    assert.match(got.Configuration?.FunctionArn ?? '', /^arn:aws:lambda:us-east-1:\d{12}:function:hello$/);
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    assert.equal(config.CodeSha256, got.Configuration?.CodeSha256);
    const list = await client.send(new ListFunctionsCommand({}));
    assert.deepEqual(list.Functions?.map((f) => f.FunctionName).sort(), ['hello', 'snake']);
    const page = await client.send(new ListFunctionsCommand({ MaxItems: 1 }));
    assert.equal(page.Functions?.length, 1);
    const next = await client.send(new ListFunctionsCommand({ MaxItems: 1, Marker: page.NextMarker }));
    assert.equal(next.Functions?.[0]?.FunctionName, 'snake');
    // A function deployed the kumo way is listed too (same functions, two APIs).
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: native\n', 'index.js': 'export default () => "n";\n' }),
    );
    const all = await client.send(new ListFunctionsCommand({}));
    assert.ok(all.Functions?.some((f) => f.FunctionName === 'native' && f.Runtime === 'nodejs24.x'));
  });

  test('UpdateFunctionCode and UpdateFunctionConfiguration make new versions; PublishVersion and ListVersionsByFunction', async () => {
    const code = NODE_CODE.replace('hello: event.name ?? null', "hello: 'v2:' + (event.name ?? '')");
    const updated = await client.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'hello', ZipFile: zipOf({ 'index.mjs': code }) }),
    );
    assert.equal(updated.Version, '$LATEST');
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'hello', Payload: JSON.stringify({ name: 'x' }) }),
    );
    assert.equal(json(out.Payload).hello, 'v2:x');
    assert.equal(out.ExecutedVersion, '2');
    const configured = await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'hello',
        Environment: { Variables: { GREETING: 'hola' } },
        MemorySize: 512,
        Timeout: 3,
      }),
    );
    assert.equal(configured.MemorySize, 512);
    assert.equal(configured.Timeout, 3);
    const again = await client.send(new InvokeCommand({ FunctionName: 'hello', Payload: '{}' }));
    assert.equal(json(again.Payload).greeting, 'hola');
    assert.equal(json(again.Payload).hello, 'v2:', 'the code stays');
    const published = await client.send(new PublishVersionCommand({ FunctionName: 'hello' }));
    assert.equal(published.Version, '3');
    const versions = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'hello' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1', '2', '3'],
    );
    const old = await client.send(
      new InvokeCommand({ FunctionName: 'hello', Qualifier: '1', Payload: '{"name":"o"}' }),
    );
    assert.deepEqual(
      [json(old.Payload), old.ExecutedVersion],
      [{ hello: 'o', greeting: 'hi', version: '1' }, '1'],
    );
  });

  test('aliases: CreateAlias with a canary, GetAlias, UpdateAlias, ListAliases, Invoke by alias, DeleteAlias', async () => {
    const created = await client.send(
      new CreateAliasCommand({
        FunctionName: 'hello',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
      }),
    );
    assert.equal(created.FunctionVersion, '1');
    assert.deepEqual(created.RoutingConfig?.AdditionalVersionWeights, { '2': 0.25 });
    assert.match(created.AliasArn ?? '', /function:hello:live$/);
    const executed = new Set<string>();
    for (let i = 0; i < 40; i++)
      executed.add(
        (await client.send(new InvokeCommand({ FunctionName: 'hello', Qualifier: 'live' })))
          .ExecutedVersion ?? '',
      );
    assert.deepEqual([...executed].sort(), ['1', '2']);
    const history = await apiJson<{ invocations: { alias: string | null }[] }>(
      server,
      '/history?function=hello&limit=5',
    );
    assert.ok(history.invocations.some((i) => i.alias === 'live'));
    const updated = await client.send(
      new UpdateAliasCommand({
        FunctionName: 'hello',
        Name: 'live',
        FunctionVersion: '3',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    assert.deepEqual([updated.FunctionVersion, updated.RoutingConfig], ['3', undefined]);
    const byArn = await client.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:hello:live',
        Payload: '{}',
      }),
    );
    assert.equal(byArn.ExecutedVersion, '3');
    assert.equal(
      (await client.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'live' }))).FunctionVersion,
      '3',
    );
    assert.deepEqual(
      (await client.send(new ListAliasesCommand({ FunctionName: 'hello' }))).Aliases?.map((a) => a.Name),
      ['live'],
    );
    // kumo's own view of the same alias.
    const kumoAlias = await apiJson<{ version: number }>(server, '/functions/hello/aliases/live');
    assert.equal(kumoAlias.version, 3);
    const dup = await sdkError(
      client.send(new CreateAliasCommand({ FunctionName: 'hello', Name: 'live', FunctionVersion: '1' })),
    );
    assert.deepEqual([dup.name, dup.status], ['ResourceConflictException', 409]);
    await client.send(new DeleteAliasCommand({ FunctionName: 'hello', Name: 'live' }));
    const gone = await sdkError(client.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'live' })));
    assert.deepEqual([gone.name, gone.status], ['ResourceNotFoundException', 404]);
    const badWeight = await sdkError(
      client.send(
        new CreateAliasCommand({
          FunctionName: 'hello',
          Name: 'x',
          FunctionVersion: '1',
          RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } },
        }),
      ),
    );
    assert.equal(badWeight.name, 'InvalidParameterValueException');
  });

  test('InvokeWithResponseStream answers PayloadChunk events and InvokeComplete', async () => {
    const out = await client.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: 'hello',
        Payload: JSON.stringify({ name: 's' }),
        LogType: 'Tail',
      }),
    );
    assert.equal(out.StatusCode, 200);
    let payload = '';
    let complete: { ErrorCode?: string | undefined; LogResult?: string | undefined } | undefined;
    for await (const event of out.EventStream ?? []) {
      if (event.PayloadChunk?.Payload) payload += Buffer.from(event.PayloadChunk.Payload).toString();
      if (event.InvokeComplete) complete = event.InvokeComplete;
    }
    assert.equal(JSON.parse(payload).hello, 'v2:s');
    assert.equal(complete?.ErrorCode, undefined);
    assert.match(Buffer.from(complete?.LogResult ?? '', 'base64').toString(), /START RequestId/);
    const failing = await client.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'hello', Payload: '{"fail":"s"}' }),
    );
    let errorCode: string | undefined;
    for await (const event of failing.EventStream ?? [])
      if (event.InvokeComplete) errorCode = event.InvokeComplete.ErrorCode;
    assert.equal(errorCode, 'Unhandled');
  });

  test('errors have Lambda names: ResourceNotFound, InvalidParameterValue, ResourceConflict, InvalidRequestContent, TooManyRequests', async () => {
    const missing = await sdkError(client.send(new InvokeCommand({ FunctionName: 'nope' })));
    assert.deepEqual([missing.name, missing.status], ['ResourceNotFoundException', 404]);
    assert.match(missing.message, /Function not found/);
    assert.equal(
      (await sdkError(client.send(new GetFunctionCommand({ FunctionName: 'nope' })))).name,
      'ResourceNotFoundException',
    );
    assert.equal(
      (await sdkError(client.send(new InvokeCommand({ FunctionName: 'hello', Qualifier: 'nosuch' })))).name,
      'ResourceNotFoundException',
    );
    const java = await sdkError(
      client.send(
        new CreateFunctionCommand({
          FunctionName: 'j',
          Runtime: 'java21',
          Role: ROLE,
          Handler: 'x',
          Code: { ZipFile: zipOf({ 'a.txt': 'x' }) },
        }),
      ),
    );
    assert.deepEqual([java.name, java.status], ['InvalidParameterValueException', 400]);
    const dup = await sdkError(
      client.send(
        new CreateFunctionCommand({
          FunctionName: 'hello',
          Runtime: 'nodejs22.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: zipOf({ 'index.mjs': NODE_CODE }) },
        }),
      ),
    );
    assert.deepEqual([dup.name, dup.status], ['ResourceConflictException', 409]);
    const notJson = await sdkError(
      client.send(new InvokeCommand({ FunctionName: 'hello', Payload: 'not json' })),
    );
    assert.deepEqual([notJson.name, notJson.status], ['InvalidRequestContentException', 400]);
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml':
          'name: narrow\nstyle: lambda\nhandler: index.handler\nconcurrency: 1\ninstances:\n  max: 1\nqueue: 0\n',
        'index.mjs':
          'export const handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return 1; };\n',
      }),
    );
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => client.send(new InvokeCommand({ FunctionName: 'narrow' }))),
    );
    const throttled = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as Error).name);
    assert.ok(
      throttled.length >= 1 && throttled.every((n) => n === 'TooManyRequestsException'),
      JSON.stringify(throttled),
    );
  });

  test('SigV4: a wrong secret, an unknown key, a revoked key and a stale signature are refused', async () => {
    const key = await awsKey(server, ['admin']);
    const wrong = await sdkError(
      lambdaClient(server, { ...key, secretAccessKey: `${key.secretAccessKey.slice(0, -1)}x` }).send(
        new ListFunctionsCommand({}),
      ),
    );
    assert.deepEqual([wrong.name, wrong.status], ['InvalidSignatureException', 403]);
    const unknown = await sdkError(
      lambdaClient(server, {
        accessKeyId: 'AKIAAAAAAAAAAAAAAAAA',
        secretAccessKey: key.secretAccessKey,
      }).send(new ListFunctionsCommand({})),
    );
    assert.deepEqual([unknown.name, unknown.status], ['UnrecognizedClientException', 403]);
    const stale = await fetch(`${server.url}/2015-03-31/functions/`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/20200101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': '20200101T000000Z',
      },
    });
    assert.equal(stale.status, 403);
    assert.equal(stale.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    const revoked = await api(server, `/keys/${key.id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 200);
    const afterRevoke = await sdkError(lambdaClient(server, key).send(new ListFunctionsCommand({})));
    assert.deepEqual([afterRevoke.name, afterRevoke.status], ['UnrecognizedClientException', 403]);
  });

  test('DeleteFunction removes the function for both APIs', async () => {
    await client.send(new DeleteFunctionCommand({ FunctionName: 'snake' }));
    assert.equal(
      (await sdkError(client.send(new GetFunctionCommand({ FunctionName: 'snake' })))).name,
      'ResourceNotFoundException',
    );
    assert.equal((await api(server, '/functions/snake')).status, 404);
  });
});
