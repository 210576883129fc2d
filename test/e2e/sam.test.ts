/**
 * SAM templates: `kumo deploy template.yaml` deploys every AWS::Serverless::Function of
 * examples/sam-app (an HTTP API function in Node.js, a custom runtime on a schedule) in one
 * command, says what it ignores, and the schedule fires.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiJson, eventually, invoke, kumo, ROOT, startTestServer, type TestServer } from './harness.ts';

const TEMPLATE = path.join(ROOT, 'examples/sam-app/template.yaml');

type Schedules = { schedules: { cron: string; data?: unknown; source: string }[] };
type History = {
  invocations: { id: string; trigger: string; status: string; response?: { body?: string } }[];
};
type LogLines = { lines: { line: string; invocationId: string | null }[] };

describe('SAM templates', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test('kumo deploy template.yaml deploys both functions, their schedule and environment, and lists what it ignored', async () => {
    const deployed = await kumo(server.url, ['deploy', TEMPLATE]);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    assert.match(deployed.stdout, /hello-function/);
    assert.match(deployed.stdout, /ticker-function/);
    assert.match(deployed.stderr, /ignored by kumo.*HelloFunction\.Architectures/);
    assert.match(deployed.stderr, /Outputs/);

    const hello = await invoke(server, 'hello-function', '/hello');
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), {
      message: 'hello from /hello',
      stage: 'dev',
      region: 'us-east-1-hello',
    });

    const schedules = await apiJson<Schedules>(server, '/functions/ticker-function/schedules');
    assert.deepEqual(
      schedules.schedules.map((s) => [s.cron, s.data]),
      [['* * * * *', { job: 'tick' }]],
    );
    // rate(1 minute): the first tick comes at the next minute boundary.
    const ticked = await eventually(
      async () => {
        const h = await apiJson<History>(server, '/history?function=ticker-function&trigger=cron');
        return h.invocations.find((i) => i.status === 'succeeded');
      },
      75_000,
      'a cron tick of ticker-function',
    );
    const logs = await eventually(async () => {
      const l = await apiJson<LogLines>(server, '/functions/ticker-function/logs');
      return l.lines.find((x) => x.invocationId === ticked.id && x.line.startsWith('tick: '));
    });
    assert.equal(logs.line, 'tick: {"job":"tick"}', 'the schedule’s Input is the event, as on Lambda');
  });
});
