import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KumoError } from '../../core/index.ts';
import { eventBridgeCron } from './sam-schedule.ts';
import { loadTemplate } from './sam-yaml.ts';
import { kebab, parseTemplate } from './sam.ts';

const HEAD = 'Transform: AWS::Serverless-2016-10-31\n';

function read(text: string) {
  return parseTemplate(loadTemplate(text, 'template.yaml'), 'template.yaml', 'stack');
}

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KumoError, String(err));
    assert.equal(err.code, 'invalid_manifest');
    assert.match(err.message, pattern);
    return true;
  });
}

test('functions get Globals merged under their own properties, intrinsics resolved, the rest listed as ignored', () => {
  const sam = read(`${HEAD}
Parameters:
  Who: { Type: String, Default: world }
Globals:
  Function:
    Timeout: 10
    Runtime: nodejs22.x
    Environment: { Variables: { STAGE: dev, WHO: global } }
  Api: { Cors: '*' }
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./src/hello/
      Handler: app.handler
      MemorySize: 512
      Policies: [AWSLambdaBasicExecutionRole]
      AutoPublishAlias: live
      Environment:
        Variables:
          WHO: !Ref Who
          WHERE: !Sub '\${AWS::Region}/\${Who}'
          TABLE: !GetAtt Table.Arn
      Events:
        Get: { Type: Api, Properties: { Path: '/hi/{name}', Method: get, RestApiId: !Ref Api } }
        Queue: { Type: SQS, Properties: { Queue: !GetAtt Q.Arn } }
  Py:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: py, Handler: app.lambda_handler, Runtime: python3.12, FunctionName: Py-Fn }
  Table: { Type: AWS::Serverless::SimpleTable }
`);
  const [hello, py] = sam.functions;
  assert.deepEqual(hello?.manifest, {
    name: 'hello-world-function',
    runtime: 'node',
    handler: 'app.handler',
    style: 'lambda',
    memory: 512,
    timeout: 10,
    env: { STAGE: 'dev', WHO: 'world', WHERE: 'us-east-1/world' },
  });
  assert.equal(hello?.codeUri, 'src/hello/');
  assert.equal(hello?.alias, 'live');
  assert.deepEqual(hello?.routes, [{ method: 'GET', path: '/hi/{name}' }]);
  assert.equal(py?.name, 'py-fn');
  assert.equal(py?.manifest.runtime, 'python');
  assert.deepEqual(sam.ignored.sort(), [
    'Globals.Api',
    'HelloWorldFunction.Environment.Variables.TABLE (Fn::GetAtt: not resolvable outside AWS)',
    'HelloWorldFunction.Events.Get.RestApiId',
    'HelloWorldFunction.Events.Queue (SQS events are not supported)',
    'HelloWorldFunction.Policies',
    'Resources.Table (AWS::Serverless::SimpleTable: kumo deploys functions only)',
  ]);
});

test('Schedule and ScheduleV2 events become kumo cron schedules', () => {
  const sam = read(`${HEAD}
Resources:
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Runtime: provided.al2023
      Handler: x
      Events:
        A: { Type: Schedule, Properties: { Schedule: rate(5 minutes), Input: '{"a":1}' } }
        B: { Type: ScheduleV2, Properties: { ScheduleExpression: 'cron(0 12 ? * MON-FRI *)', ScheduleExpressionTimezone: Europe/Paris } }
        C: { Type: Schedule, Properties: { Schedule: rate(1 hour), Enabled: false } }
`);
  assert.deepEqual(sam.functions[0]?.manifest.schedule, [
    { cron: '*/5 * * * *', data: { a: 1 } },
    { cron: '0 12 * * MON-FRI', tz: 'Europe/Paris' },
  ]);
  assert.deepEqual(sam.ignored, ['Tick.Events.C (disabled)']);
  const fail = { fail: (m: string): never => assert.fail(m) };
  assert.equal(eventBridgeCron('rate(1 day)', 'x', fail), '0 0 * * *');
  assert.equal(eventBridgeCron('rate(120 minutes)', 'x', fail), '0 */2 * * *');
  assert.equal(eventBridgeCron('cron(15 10 ? * 2-6 *)', 'x', fail), '15 10 * * 1-5');
  assert.equal(eventBridgeCron('cron(0 0 ? * 6#3 *)', 'x', fail), '0 0 * * 5#3');
  const throwing = {
    fail: (m: string): never => {
      throw new KumoError('invalid_manifest', m);
    },
  };
  refused(() => eventBridgeCron('rate(7 minutes)', 'x', throwing), /exactly that rate/);
  refused(() => eventBridgeCron('cron(0 0 * * ? 2030)', 'x', throwing), /year field must be \*/);
  refused(() => eventBridgeCron('at(2030-01-01T00:00:00)', 'x', throwing), /one-time/);
});

test('hostile templates are refused with the field named', () => {
  const fn = (props: string) =>
    `${HEAD}Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: ${props}\n`;
  refused(
    () => read(fn('{ CodeUri: ../../etc, Handler: a.b, Runtime: nodejs22.x }')),
    /CodeUri "..\/..\/etc" must be a folder inside/,
  );
  refused(() => read(fn('{ CodeUri: /etc, Handler: a.b, Runtime: nodejs22.x }')), /must be a folder inside/);
  refused(
    () => read(fn('{ CodeUri: s3://bucket/key.zip, Handler: a.b, Runtime: nodejs22.x }')),
    /local code only/,
  );
  refused(
    () => read(fn('{ CodeUri: ., Handler: !Bogus x, Runtime: nodejs22.x }')),
    /"Fn::Bogus", which is not a CloudFormation intrinsic/,
  );
  refused(
    () => read(fn('{ CodeUri: ., Handler: { "Fn::Evil": 1 }, Runtime: nodejs22.x }')),
    /not a CloudFormation intrinsic/,
  );
  refused(
    () => read(fn('{ CodeUri: !GetAtt X.Y, Handler: a.b, Runtime: nodejs22.x }')),
    /CodeUri uses Fn::GetAtt, which kumo cannot resolve/,
  );
  refused(() => read(fn('{ CodeUri: ., Handler: a.b, Runtime: java21 }')), /not a runtime kumo runs/);
  refused(
    () => read(fn('{ CodeUri: ., Handler: a.b, Runtime: nodejs22.x, FunctionName: "no way" }')),
    /not a DNS label/,
  );
  refused(() => read('Resources: {}\n'), /not a SAM template/);
  refused(() => read(`${HEAD}Resources: { T: { Type: AWS::S3::Bucket } }\n`), /no AWS::Serverless::Function/);
  refused(() => read('a: 1\na: 2\n'), /not valid YAML/);
});

test('a YAML bomb (aliases of aliases) is refused before it expands', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`);
  }
  const started = process.memoryUsage().heapUsed;
  refused(() => loadTemplate(`${levels.join('\n')}\n`, 'template.yaml'), /expands to more than \d+ values/);
  assert.ok(process.memoryUsage().heapUsed - started < 200 * 1024 * 1024);
  refused(() => loadTemplate('x'.repeat(1024 * 1024 + 1), 'template.yaml'), /larger than/);
  refused(
    () => loadTemplate(`${'['.repeat(200)}${']'.repeat(200)}`, 'template.yaml'),
    /nested deeper|not valid YAML/,
  );
});

test('logical ids become DNS-label names', () => {
  assert.equal(kebab('HelloWorldFunction'), 'hello-world-function');
  assert.equal(kebab('APIHandler2'), 'api-handler2');
  assert.equal(kebab('my_fn'), 'my-fn');
});
