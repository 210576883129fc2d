/**
 * Callback delivery as the API shows it: every attempt (time, outcome, status or error, duration)
 * is part of the invocation's history, including an attempt refused after DNS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiJson,
  eventually,
  kumo,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';
import { startReceiver, type Receiver } from './async-helpers.ts';

interface Delivery {
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: string;
  statusCode: number | null;
  error: string | null;
}
interface InvocationView {
  callback: { state: string; attempts: number; lastError: string | null; deliveries: Delivery[] } | null;
}

async function enqueue(server: TestServer, callbackUrl: string): Promise<string> {
  const res = await fetch(`${server.url}/async/fn/answer`, {
    method: 'POST',
    headers: { 'x-callback-url': callbackUrl },
    body: 'x',
  });
  assert.equal(res.status, 202, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

async function settled(server: TestServer, id: string, attempts: number): Promise<InvocationView> {
  return eventually(
    async () => {
      const r = await apiJson<InvocationView>(server, `/invocations/${id}`);
      return (r.callback?.deliveries?.length ?? 0) >= attempts && r.callback?.state !== 'pending'
        ? r
        : undefined;
    },
    20_000,
    `${attempts} delivery attempts of ${id}`,
  );
}

const ANSWER = {
  'kumo.yaml': 'name: answer\n',
  'index.js': 'export default { fetch: () => Response.json({ answer: 42 }) };\n',
};

describe('callback delivery attempts in the history', () => {
  let server: TestServer;
  let receiver: Receiver;
  let calls = 0;
  before(async () => {
    server = await startTestServer(['--retry-backoff', '100ms']);
    // Fails twice with 503, then takes the result.
    receiver = await startReceiver(() => (++calls <= 2 ? 503 : 200));
    await mustDeploy(server, await writeFunction(ANSWER));
  });
  after(async () => {
    await receiver.close();
    await server.dispose();
  });

  test('each attempt is listed with its time, outcome, status and duration', async () => {
    const t0 = Date.now();
    const id = await enqueue(server, `${receiver.url}/hook`);
    const view = await settled(server, id, 3);
    assert.equal(view.callback?.state, 'delivered');
    const deliveries = view.callback?.deliveries ?? [];
    assert.deepEqual(
      deliveries.map((d) => [d.attempt, d.outcome, d.statusCode]),
      [
        [1, 'answered', 503],
        [2, 'answered', 503],
        [3, 'delivered', 200],
      ],
    );
    for (const d of deliveries) {
      assert.ok(d.startedAt >= t0 - 1000 && d.startedAt <= Date.now(), 'a real start time');
      assert.ok(d.durationMs >= 0 && d.durationMs < 10_000);
    }
    assert.match(deliveries[0]?.error ?? '', /503/);
    assert.ok((deliveries[1]?.startedAt ?? 0) > (deliveries[0]?.startedAt ?? 0), 'in order, with a backoff');
    const cli = await kumo(server.url, ['history', id]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /callback .*\(delivered, 3 attempt\(s\)\)/);
    assert.match(cli.stdout, /#1 .* answered 503 in /);
    assert.match(cli.stdout, /#3 .* delivered 200 in /);
  });
});

describe('a callback refused after DNS', () => {
  let server: TestServer;
  before(async () => {
    // Only 10.0.0.0/8 may be called back: "localhost" passes the textual check (it is a name), and
    // at connect time resolves only to loopback, which the list does not allow.
    server = await startTestServer(['--callback-allow', '10.0.0.0/8']);
    await mustDeploy(server, await writeFunction(ANSWER));
  });
  after(() => server.dispose());

  test('is failed at once, with the refusal recorded as an attempt', async () => {
    const id = await enqueue(server, 'http://localhost:9/hook');
    const view = await settled(server, id, 1);
    assert.equal(view.callback?.state, 'failed', 'a refusal is not retried');
    assert.equal(view.callback?.deliveries.length, 1);
    const [d] = view.callback?.deliveries ?? [];
    assert.equal(d?.outcome, 'refused');
    assert.equal(d?.statusCode, null);
    assert.match(d?.error ?? '', /refused addresses/);
  });
});
