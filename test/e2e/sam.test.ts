/**
 * SAM templates: `kumo deploy template.yaml` deploys every AWS::Serverless::Function of
 * examples/sam-app (an HTTP API function in Node.js, a custom runtime on a schedule) in one
 * command, says what it ignores, and the schedule fires.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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

    // The HttpApi event's route: GET /hello, served at /routes/hello; the function sees /hello.
    const routed = await fetch(`${server.url}/routes/hello`);
    assert.equal(routed.status, 200);
    assert.equal(((await routed.json()) as { message: string }).message, 'hello from /hello');
    const listed = await kumo(server.url, ['routes']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /GET\s+\/hello\s+hello-function\s+http:\/\/localhost:\d+\/routes\/hello/);
    const unrouted = await fetch(`${server.url}/routes/hello`, { method: 'POST' });
    assert.equal(
      unrouted.status,
      401,
      'a path no route maps is like any unknown path: a key is needed to learn so',
    );

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

  test('AutoPublishAlias points the alias at each new version of the function', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-sam-'));
    try {
      await cp(path.dirname(TEMPLATE), dir, { recursive: true });
      const template = path.join(dir, 'template.yaml');
      // Only the HTTP function: the alias is what is under test.
      const text = await readFile(template, 'utf8');
      await writeFile(
        template,
        text
          .slice(0, text.indexOf('  TickerFunction:'))
          .replace('HelloFunction:', 'AliasedFunction:')
          // its own route: GET /hello is the first test's hello-function's
          .replace('Path: /hello', 'Path: /aliased'),
      );
      const first = await kumo(server.url, ['deploy', template, '--json']);
      assert.equal(first.code, 0, first.stderr);
      const result = JSON.parse(first.stdout) as {
        function: string;
        version: number;
        alias?: string;
        ignored: string[];
      };
      assert.equal(result.function, 'aliased-function');
      assert.equal(result.alias, 'live');
      assert.ok(result.ignored.includes('AliasedFunction.Architectures'));
      assert.equal(await aliasVersion(server, 'aliased-function', 'live'), 1);
      await writeFile(
        path.join(dir, 'hello/app.mjs'),
        'export const handler = async () => ({ statusCode: 200, body: "v2" });\n',
      );
      const second = await kumo(server.url, ['deploy', template, '--json']);
      assert.equal(second.code, 0, second.stderr);
      assert.equal((JSON.parse(second.stdout) as { version: number }).version, 2);
      assert.equal(await aliasVersion(server, 'aliased-function', 'live'), 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The version an alias names, read from the server's store (no alias API is needed for this). */
async function aliasVersion(server: TestServer, fn: string, alias: string): Promise<number | undefined> {
  if (server.storeUrl) {
    const { default: postgres } = await import('postgres');
    const sql = postgres(server.storeUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<
        { version: number }[]
      >`SELECT version FROM aliases WHERE function = ${fn} AND name = ${alias}`;
      return rows[0] ? Number(rows[0].version) : undefined;
    } finally {
      await sql.end();
    }
  }
  const db = new DatabaseSync(path.join(server.dataDir, 'kumo.db'), { readOnly: true });
  try {
    const row = db.prepare('SELECT version FROM aliases WHERE function = ? AND name = ?').get(fn, alias) as
      { version: number } | undefined;
    return row?.version;
  } finally {
    db.close();
  }
}
