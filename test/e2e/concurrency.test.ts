/**
 * Per-instance concurrency and the autoscaler, through the real server: a node function serves
 * many requests on one instance by default, `concurrency: 1` keeps one request per instance, an
 * instance whose event loop is saturated gets a sibling, a timeout fails no sibling request, and
 * a spare instance is drained (no request fails) once load drops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, invoke, mustDeploy, startTestServer, writeFunction } from './harness.ts';

/**
 * A function that answers with its instance's identity after `ms` (or after burning CPU for
 * `burn` ms); the header x-peak says how many requests its instance held at once meanwhile.
 */
const IDENTIFY = `
const me = crypto.randomUUID();
let inflight = 0;
export default async (request) => {
  inflight++;
  let peak = inflight;
  const url = new URL(request.url);
  const burn = Number(url.searchParams.get('burn') ?? 0);
  const until = Date.now() + burn;
  while (Date.now() < until);
  const ms = Number(url.searchParams.get('ms') ?? 0);
  if (ms) await new Promise((r) => setTimeout(r, ms));
  peak = Math.max(peak, inflight);
  inflight--;
  return new Response(me, { headers: { 'x-peak': String(peak) } });
};
`;

/** `n` requests at once: the instance of each answer, and the most any instance held at once. */
async function identities(
  server: { url: string },
  name: string,
  n: number,
  query: string,
): Promise<{ seen: string[]; peak: number }> {
  const answers = await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await invoke(server, name, `/?${query}`);
      assert.equal(res.status, 200);
      return { me: await res.text(), peak: Number(res.headers.get('x-peak')) };
    }),
  );
  return { seen: answers.map((a) => a.me), peak: Math.max(...answers.map((a) => a.peak)) };
}

test('a node function serves many concurrent requests on one instance by default', async () => {
  const server = await startTestServer();
  try {
    await mustDeploy(server, await writeFunction({ 'kumo.yaml': 'name: many\n', 'index.js': IDENTIFY }));
    const { seen, peak } = await identities(server, 'many', 40, 'ms=1500');
    assert.equal(new Set(seen).size, 1, 'one instance served all 40 requests');
    assert.ok(peak > 20, `it held many at once (peak ${peak})`);
  } finally {
    await server.dispose();
  }
});

test('concurrency: 1 serves one request per instance', async () => {
  const server = await startTestServer();
  try {
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: solo\nconcurrency: 1\n', 'index.js': IDENTIFY }),
    );
    const { seen, peak } = await identities(server, 'solo', 6, 'ms=1500');
    assert.equal(peak, 1, 'no instance held two requests at once');
    assert.ok(new Set(seen).size >= 2, 'more instances were started instead');
  } finally {
    await server.dispose();
  }
});

test('a saturated instance gets a sibling; a spare one is drained once load drops, failing nothing', async () => {
  const server = await startTestServer();
  try {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: burner\ninstances:\n  max: 2\n  idle: 1s\n',
        'index.js': IDENTIFY,
      }),
    );
    // Each request keeps the event loop busy for 30 ms: 4 callers at once saturate one instance.
    const seen = new Set<string>();
    const failures: number[] = [];
    let stop = false;
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const res = await invoke(server, 'burner', '/?burn=30');
        if (res.status === 200) seen.add(await res.text());
        else failures.push(res.status);
      }
    });
    try {
      await eventually(() => seen.size >= 2, 30_000, 'a second instance');
    } finally {
      stop = true;
      await Promise.all(load);
    }
    // Light load now: one request at a time, mostly waiting. The spare instance drains.
    const drained = (l: string) => l.includes('instance stopped after idle') && l.includes('burner');
    await eventually(
      async () => {
        const res = await invoke(server, 'burner', '/?ms=20');
        if (res.status !== 200) failures.push(res.status);
        return server.logLines.some(drained);
      },
      30_000,
      'a drained instance',
    );
    const status = await eventually(
      async () => {
        const fn = (await (
          await fetch(`${server.url}/api/v1/functions/burner`, {
            headers: { authorization: `Bearer ${server.adminKey}` },
          })
        ).json()) as { instances?: { total: number } };
        return fn.instances?.total === 1 ? fn : undefined;
      },
      10_000,
      'one instance left',
    );
    assert.ok(status);
    assert.deepEqual(failures, []);
  } finally {
    await server.dispose();
  }
});

test('a timeout with concurrency above 1 fails only its own request; the instance is replaced after', async () => {
  const server = await startTestServer();
  try {
    await mustDeploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: slowpoke\ntimeout: 5s\n', 'index.js': IDENTIFY }),
    );
    // The sibling is in flight when the first request times out (at 5 s) and ends well before its
    // own deadline; the timeout leaves room for the replacement's cold start on a loaded machine
    // (it counts against the next request's deadline).
    const [late, sibling] = await Promise.all([
      invoke(server, 'slowpoke', '/?ms=20000'),
      (async () => {
        await new Promise((r) => setTimeout(r, 4500));
        return invoke(server, 'slowpoke', '/?ms=1000');
      })(),
    ]);
    assert.equal(late.status, 504);
    assert.equal(sibling.status, 200, 'the sibling request finished on the same instance');
    const first = await sibling.text();
    const next = await invoke(server, 'slowpoke', '/');
    assert.equal(next.status, 200);
    assert.notEqual(await next.text(), first, 'the instance that timed out was replaced');
  } finally {
    await server.dispose();
  }
});
