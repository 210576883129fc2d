/**
 * runtime: provided — Lambda custom runtimes through the Runtime API, with bootstraps written as
 * AWS's documentation writes them (a shell script calling the API with curl) and with the
 * unmodified aws-lambda-ric npm package.
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import {
  apiJson,
  eventually,
  invoke,
  mustDeploy,
  ROOT,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';
import { awsKey, lambdaClient, zipOf } from './lambda-helpers.ts';

type LogLines = { lines: { line: string; stream: string; invocationId: string | null }[] };
type History = { invocations: { id: string; function: string; status: string; statusCode?: number }[] };

/** AWS's custom-runtime tutorial bootstrap (bash, as on Amazon Linux, where /bin/sh is bash). */
const TUTORIAL_BOOTSTRAP = `#!/bin/bash
set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")

  # Send the response
  curl -sS "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
`;

const TUTORIAL_FUNCTION = `function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"

  echo $RESPONSE
}
`;

/** A curl bootstrap that answers with its environment and the /next headers, or reports an error. */
const INSPECT_BOOTSTRAP = `#!/bin/sh
set -eu
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  H="$(mktemp)"
  EVENT=$(curl -sS -D "$H" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  case "$EVENT" in
    *'"rawPath":"/fail"'*)
      curl -sS -o /dev/null -H 'Lambda-Runtime-Function-Error-Type: Handler.Boom' \\
        "$API/invocation/$ID/error" -d '{"errorMessage":"it broke","errorType":"Handler.Boom"}'
      continue ;;
  esac
  BODY=$(printf '{"statusCode":201,"headers":{"x-runtime":"curl"},"body":"%s"}' \\
    "$( (env | grep -E '^(_HANDLER|LAMBDA_TASK_ROOT|AWS_[A-Z_]+|GREETING)=' | sort; \\
         grep -i '^lambda-runtime' "$H" | tr -d '\\r' | sed 's/:[[:space:]]*/=/' ) | tr '\\n' ';' | sed 's/"/\\\\"/g')")
  echo "answering $ID"
  curl -sS -o /dev/null "$API/invocation/$ID/response" -d "$BODY"
done
`;

/** `KEY=value;…` as a map. */
function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(';')) {
    const at = item.indexOf('=');
    if (at > 0) out[item.slice(0, at).toLowerCase()] = item.slice(at + 1);
  }
  return out;
}

/** A curl bootstrap that answers {got: EVENT}, or a runtime error when the event holds "fail". */
const DIRECT_BOOTSTRAP = [
  '#!/bin/sh',
  'API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"',
  'while true; do',
  '  H="$(mktemp)"',
  '  EVENT=$(curl -sS -D "$H" "$API/next")',
  '  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d \'[:space:]\' | cut -d: -f2)',
  '  case "$EVENT" in',
  '    *fail*) curl -sS -o /dev/null "$API/$ID/error" -d \'{"errorType":"Oops","errorMessage":"asked to fail"}\' ;;',
  '    *) curl -sS -o /dev/null "$API/$ID/response" -d "{\\"got\\":$EVENT}" ;;',
  '  esac',
  'done',
  '',
].join('\n');

describe('runtime provided (Lambda Runtime API)', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test("AWS's tutorial bootstrap (bash + curl) echoes the event, logs to kumo and is in the history", async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: tutorial\nruntime: provided\nhandler: function.handler\n',
      bootstrap: TUTORIAL_BOOTSTRAP,
      'function.sh': TUTORIAL_FUNCTION,
    });
    await mustDeploy(server, dir);
    for (const word of ['first', 'second']) {
      const res = await invoke(server, 'tutorial', '/hello?x=1', { method: 'POST', body: word });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /^Echoing request: '\{.*\}'$/s);
      const event = JSON.parse(text.slice("Echoing request: '".length, -1)) as {
        body: string;
        rawPath: string;
        requestContext: { http: { method: string } };
      };
      assert.equal(event.body, word);
      assert.equal(event.rawPath, '/hello');
      assert.equal(event.requestContext.http.method, 'POST');
    }
    const logs = await eventually(async () => {
      const l = await apiJson<LogLines>(server, '/functions/tutorial/logs');
      return l.lines.some((x) => x.line.includes('"body":"second"')) && l;
    });
    const line = logs.lines.find((x) => x.line.includes('"body":"second"'));
    assert.ok(line?.invocationId, 'the handler’s stderr is attributed to its invocation');
    const history = await apiJson<History>(server, '/history?function=tutorial');
    assert.ok(history.invocations.some((i) => i.id === line.invocationId && i.status === 'succeeded'));
  });

  test("Lambda's environment and headers reach the bootstrap; /error answers a handler_error", async () => {
    const dir = await writeFunction({
      'kumo.yaml':
        'name: inspect\nruntime: provided\nhandler: my.handler\nmemory: 128\ntimeout: 5s\nenv:\n  GREETING: hi\n',
      bootstrap: INSPECT_BOOTSTRAP,
    });
    await mustDeploy(server, dir);
    const started = Date.now();
    const res = await invoke(server, 'inspect', '/', { method: 'POST', body: '{}' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-runtime'), 'curl');
    const seen = pairs(await res.text());
    assert.equal(seen._handler, 'my.handler');
    assert.equal(seen.lambda_task_root, '/var/task');
    assert.equal(seen.aws_lambda_function_name, 'inspect');
    assert.equal(seen.aws_lambda_function_version, '1');
    assert.equal(seen.aws_lambda_function_memory_size, '128');
    assert.equal(seen.aws_region, 'us-east-1');
    assert.equal(seen.greeting, 'hi');
    assert.match(seen.aws_lambda_runtime_api ?? '', /^127\.0\.0\.1:\d+$/);
    assert.match(seen['lambda-runtime-aws-request-id'] ?? '', /\S/);
    const deadline = Number(seen['lambda-runtime-deadline-ms']);
    assert.ok(deadline > started + 4000 && deadline < Date.now() + 5000, `deadline ${deadline}`);
    assert.equal(
      seen['lambda-runtime-invoked-function-arn'],
      'arn:aws:lambda:us-east-1:000000000000:function:inspect',
    );
    // `Root=1-…;Sampled=0`, split at its `;` by pairs().
    assert.match(seen['lambda-runtime-trace-id'] ?? '', /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(seen.sampled, '0');
    assert.equal(
      Object.keys(seen).filter((k) => k.startsWith('kumo_')).length,
      0,
      'no control variable leaks',
    );

    const failed = await invoke(server, 'inspect', '/fail', { method: 'POST', body: '{}' });
    assert.equal(failed.status, 500);
    const body = (await failed.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'handler_error');
    assert.match(body.error.message, /Handler\.Boom/);
    await eventually(async () => {
      const l = await apiJson<LogLines>(server, '/functions/inspect/logs');
      return l.lines.some((x) => x.line === 'Handler.Boom: it broke' && x.invocationId);
    });
    // The instance keeps serving after an error.
    assert.equal((await invoke(server, 'inspect', '/', { method: 'POST', body: '{}' })).status, 201);
  });

  test('Invoke through the Lambda API hands the payload to the runtime as the event and returns its answer', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: direct\nruntime: provided\n',
      bootstrap: DIRECT_BOOTSTRAP,
    });
    await mustDeploy(server, dir);
    const client = lambdaClient(server, await awsKey(server, ['admin']));
    const ok = await client.send(
      new InvokeCommand({ FunctionName: 'direct', Payload: JSON.stringify({ n: 1 }) }),
    );
    assert.equal(ok.StatusCode, 200);
    assert.equal(ok.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(ok.Payload ?? []).toString()), { got: { n: 1 } });
    const failed = await client.send(
      new InvokeCommand({ FunctionName: 'direct', Payload: JSON.stringify({ fail: true }) }),
    );
    assert.equal(failed.StatusCode, 200);
    assert.equal(failed.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(Buffer.from(failed.Payload ?? []).toString()), {
      errorType: 'Oops',
      errorMessage: 'asked to fail',
    });
  });

  test('CreateFunction with Runtime provided.al2023 deploys a zip whose bootstrap answers Invoke', async () => {
    const client = lambdaClient(server, await awsKey(server, ['admin']));
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: 'zipped-runtime',
        Runtime: 'provided.al2023',
        Role: 'arn:aws:iam::000000000000:role/kumo',
        Handler: 'function.handler',
        Code: { ZipFile: zipOf({ bootstrap: DIRECT_BOOTSTRAP }, ['bootstrap']) },
      }),
    );
    assert.equal(created.Runtime, 'provided.al2023');
    const ok = await client.send(
      new InvokeCommand({ FunctionName: 'zipped-runtime', Payload: JSON.stringify({ n: 2 }) }),
    );
    assert.equal(ok.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(ok.Payload ?? []).toString()), { got: { n: 2 } });
  });

  test('with network: true the Runtime API is still the instance’s own loopback', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: networked\nruntime: provided\nhandler: function.handler\nnetwork: true\n',
      bootstrap: TUTORIAL_BOOTSTRAP,
      'function.sh': TUTORIAL_FUNCTION,
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'networked', '/', { method: 'POST', body: 'net' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /"body":"net"/);
  });

  test('the unmodified aws-lambda-ric package runs a Node handler as a custom runtime', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: ric\nruntime: provided\nhandler: index.handler\n',
      // As a container image or a zip ships it: the package in the bundle, started by bootstrap.
      bootstrap: '#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/vendor/aws-lambda-ric/index.mjs"\n',
      'index.mjs': [
        'let calls = 0;',
        'export const handler = async (event, context) => {',
        '  calls++;',
        '  console.log("ric got", event.rawPath);',
        '  if (event.rawPath === "/throw") throw new TypeError("bad input");',
        '  return { statusCode: 200, headers: { "content-type": "application/json" },',
        '    body: JSON.stringify({ calls, id: context.awsRequestId, fn: context.functionName,',
        '      arn: context.invokedFunctionArn, left: context.getRemainingTimeInMillis() > 0 }) };',
        '};',
        '',
      ].join('\n'),
    });
    await cp(path.join(ROOT, 'node_modules/aws-lambda-ric'), path.join(dir, 'vendor/aws-lambda-ric'), {
      recursive: true,
    });
    await mustDeploy(server, dir);
    const first = (await (await invoke(server, 'ric', '/a')).json()) as Record<string, unknown>;
    const second = (await (await invoke(server, 'ric', '/b')).json()) as Record<string, unknown>;
    assert.equal(first.calls, 1);
    assert.equal(second.calls, 2, 'the runtime stays warm between invocations');
    assert.equal(first.fn, 'ric');
    assert.equal(first.arn, 'arn:aws:lambda:us-east-1:000000000000:function:ric');
    assert.equal(first.left, true);
    assert.notEqual(first.id, second.id);
    const thrown = await invoke(server, 'ric', '/throw');
    assert.equal(thrown.status, 500);
    assert.match(((await thrown.json()) as { error: { message: string } }).error.message, /TypeError/);
    await eventually(async () => {
      const l = await apiJson<LogLines>(server, '/functions/ric/logs');
      return l.lines.some((x) => x.line.includes('ric got /b') && x.invocationId === second.id);
    });
  });
});
