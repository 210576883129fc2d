import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { metricsText } from './async-helpers.ts';
import {
  apiJson,
  eventually,
  invoke,
  kumo,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

interface Detail {
  id: string;
  function: string;
  version: number;
  trigger: string;
  status: string;
  statusCode: number;
  outcome: string;
  cold: boolean;
  durationMs: number;
  bodies: boolean;
  request: { method: string; path: string; headers: Record<string, string>; body: string | null };
  response: { headers: Record<string, string>; body: string | null } | null;
  attempts: { attempt: number; statusCode: number }[];
  logs: { stream: string; line: string }[];
}

describe('invocation history, metrics and stats', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(['--history-body-limit', '1']);
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: recorded\n',
        'index.js': `export default { async fetch(req) {
            const text = await req.text();
            console.log('handling ' + text);
            if (text === 'fail') return new Response('nope', { status: 500 });
            return Response.json({ echoed: text, big: 'x'.repeat(3000) }, { headers: { 'x-out': 'seen' } });
          } };\n`,
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: secretive\nhistory:\n  bodies: false\n',
        'index.js':
          'export default { async fetch(req) { return new Response("secret answer " + (await req.text())); } };\n',
      }),
    );
  });
  after(() => server.dispose());

  test('every sync invocation is recorded with request, response, status, cold start and log lines', async () => {
    const first = await invoke(server, 'recorded', '/path?q=1', {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-kumo-key', 'x-in': 'given', 'content-type': 'text/plain' },
      body: 'hello history',
    });
    assert.equal(first.status, 200);
    const id = first.headers.get('x-kumo-invocation-id') ?? '';
    await first.text();
    const second = await invoke(server, 'recorded', '/', { method: 'POST', body: 'fail' });
    assert.equal(second.status, 500);
    await second.text();

    const d = await eventually(
      async () => {
        const r = await apiJson<Detail>(server, `/invocations/${id}`);
        return r.logs?.length ? r : undefined;
      },
      5000,
      'the record with its log line',
    );
    assert.equal(d.function, 'recorded');
    assert.equal(d.version, 1);
    assert.equal(d.trigger, 'http');
    assert.equal(d.status, 'succeeded');
    assert.equal(d.statusCode, 200);
    assert.equal(d.outcome, 'ok');
    assert.equal(typeof d.cold, 'boolean');
    assert.ok(d.durationMs >= 0);
    assert.equal(d.request.method, 'POST');
    assert.equal(d.request.path, '/path?q=1');
    assert.equal(d.request.headers['x-in'], 'given');
    assert.notEqual(
      d.request.headers.authorization,
      'Bearer not-a-kumo-key',
      'credentials never enter the history',
    );
    assert.equal(d.request.body, 'hello history');
    assert.equal(d.response?.headers['x-out'], 'seen');
    assert.equal(d.response?.body?.length, 1024, 'bodies are kept up to --history-body-limit (1 KB)');
    assert.ok(d.response?.body?.startsWith('{"echoed":"hello history"'));
    assert.deepEqual(
      d.logs.map((l) => l.line),
      ['handling hello history'],
    );
    assert.deepEqual(
      d.attempts.map((a) => [a.attempt, a.statusCode]),
      [[1, 200]],
    );

    const failed = await apiJson<{ invocations: { status: string; statusCode: number }[] }>(
      server,
      '/history?function=recorded&status=failed',
    );
    assert.deepEqual(
      failed.invocations.map((i) => [i.status, i.statusCode]),
      [['failed', 500]],
    );

    const shown = await kumo(server.url, ['history', id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /status\s+succeeded 200 ok, attempt 1 of 1/);
    assert.match(shown.stdout, /handling hello history/);
  });

  test('history.bodies: false keeps request and response bodies out of the history', async () => {
    const res = await invoke(server, 'secretive', '/', { method: 'POST', body: 'card 4111' });
    assert.equal(await res.text(), 'secret answer card 4111');
    const id = res.headers.get('x-kumo-invocation-id') ?? '';
    const d = await apiJson<Detail>(server, `/invocations/${id}`);
    assert.equal(d.status, 'succeeded');
    assert.equal(d.bodies, false);
    assert.equal(d.request.body, null);
    assert.equal(d.response?.body, null);
    assert.ok(!JSON.stringify(d).includes('4111'), 'the body appears nowhere in the record');
  });

  test('GET /metrics speaks Prometheus text: invocations, durations, cold starts, instances, queue depth, async lag', async () => {
    const text = await metricsText(server);
    assert.match(text, /^# TYPE kumo_invocations_total counter$/m);
    assert.match(
      text,
      /^kumo_invocations_total\{function="recorded",version="1",trigger="http",outcome="ok"\} [1-9]\d*$/m,
    );
    assert.match(
      text,
      /^kumo_invocations_total\{function="recorded",version="1",trigger="http",outcome="error"\} 1$/m,
    );
    assert.match(
      text,
      /^kumo_invocation_duration_seconds_bucket\{function="recorded",trigger="http",le="\+Inf"\} [1-9]/m,
    );
    assert.match(
      text,
      /^kumo_invocation_duration_seconds_count\{function="recorded",trigger="http"\} [1-9]/m,
    );
    assert.match(text, /^# TYPE kumo_cold_starts_total counter$/m);
    assert.match(text, /^kumo_instances\{function="recorded",state="warm"\} 1$/m);
    assert.match(text, /^kumo_instances\{function="recorded",state="busy"\} 0$/m);
    assert.match(text, /^# TYPE kumo_queue_depth gauge$/m);
    assert.match(text, /^kumo_async_lag_seconds \d/m);
    for (const line of text.trim().split('\n')) {
      assert.match(
        line,
        /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+]+)$/,
        `a valid exposition line: ${line}`,
      );
    }
  });

  test('kumo stats shows count, error rate, percentiles and cold-start share', async () => {
    for (let i = 0; i < 3; i++)
      await (await invoke(server, 'recorded', '/', { method: 'POST', body: `n${i}` })).text();
    const res = await kumo(server.url, ['stats', 'recorded', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const stats = JSON.parse(res.stdout) as {
      functions: {
        function: string;
        count: number;
        errors: number;
        errorRate: number;
        p50: number;
        p99: number;
        coldShare: number;
      }[];
    };
    const s = stats.functions[0];
    assert.equal(stats.functions.length, 1);
    assert.equal(s?.function, 'recorded');
    assert.equal(s?.count, 5);
    assert.equal(s?.errors, 1);
    assert.equal(s?.errorRate, 0.2);
    assert.ok((s?.p50 ?? -1) >= 0 && (s?.p99 ?? -1) >= (s?.p50 ?? 0));
    assert.ok((s?.coldShare ?? -1) >= 0 && (s?.coldShare ?? 2) <= 1);
    const table = await kumo(server.url, ['stats']);
    assert.match(table.stdout, /^FUNCTION\s+COUNT\s+ERRORS\s+P50\s+P95\s+P99\s+COLD$/m);
    assert.match(table.stdout, /^recorded\s+5\s+20\.0%/m);
  });
});
