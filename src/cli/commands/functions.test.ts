import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { runCli } from '../run.ts';
import type { RecordedRequest } from '../fake-server.ts';
import { captureIO, sendJson, startFakeServer } from '../fake-server.ts';

const T1 = Date.UTC(2025, 10, 24, 16, 0, 0);
const T2 = Date.UTC(2025, 10, 24, 17, 30, 0);

/** Runs `kumo …argv` against a fake control plane answering with `answer`. */
async function kumo(
  t: { after(fn: () => Promise<void>): void },
  argv: string[],
  answer: (req: RecordedRequest, res: ServerResponse) => void,
  options: { input?: string; tty?: boolean } = {},
) {
  const server = await startFakeServer(answer);
  t.after(() => server.close());
  const captured = captureIO({ env: { KUMO_URL: server.url }, ...options });
  const code = await runCli(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr(), requests: server.requests };
}

const LIST = {
  functions: [
    {
      name: 'greet',
      activeVersion: 2,
      versions: 2,
      runtime: 'node',
      url: 'http://greet.localhost:8080',
      createdAt: T1,
      updatedAt: T2,
      instances: { total: 1, busy: 0, starting: 0 },
      spec: {},
    },
    {
      name: 'resize-images',
      activeVersion: 12,
      versions: 12,
      runtime: 'node',
      url: 'http://resize-images.localhost:8080',
      createdAt: T1,
      updatedAt: T1,
      instances: { total: 0, busy: 0, starting: 0 },
      spec: {},
    },
  ],
};

test('list prints a table of the functions', async (t) => {
  const { code, stdout, requests } = await kumo(t, ['list'], (_req, res) => sendJson(res, 200, LIST));
  assert.equal(code, 0);
  assert.equal(requests[0]?.url.pathname, '/api/v1/functions');
  assert.equal(
    stdout,
    'NAME           VERSION  INSTANCES  UPDATED               URL\n' +
      'greet          2        1          2025-11-24T17:30:00Z  http://greet.localhost:8080\n' +
      'resize-images  12       0          2025-11-24T16:00:00Z  http://resize-images.localhost:8080\n',
  );
});

test('list --json prints the raw answer', async (t) => {
  const { stdout } = await kumo(t, ['list', '--json'], (_req, res) => sendJson(res, 200, LIST));
  assert.deepEqual(JSON.parse(stdout), LIST);
});

test('list says how to deploy when nothing is deployed', async (t) => {
  const { code, stdout } = await kumo(t, ['list'], (_req, res) => sendJson(res, 200, { functions: [] }));
  assert.equal(code, 0);
  assert.match(stdout, /no functions deployed yet: deploy one with `kumo deploy PATH`/);
});

test('versions prints VERSION CREATED HASH ACTIVE with 12-character hashes', async (t) => {
  const { code, stdout, requests } = await kumo(t, ['versions', 'greet'], (_req, res) =>
    sendJson(res, 200, {
      function: 'greet',
      activeVersion: 2,
      versions: [
        { version: 1, hash: 'sha256:aaaaaaaaaaaabbbbbbbb', createdAt: T1, active: false },
        { version: 2, hash: 'ccccccccccccdddddddd', createdAt: T2, active: true },
      ],
    }),
  );
  assert.equal(code, 0);
  assert.equal(requests[0]?.url.pathname, '/api/v1/functions/greet/versions');
  assert.equal(
    stdout,
    'VERSION  CREATED               HASH          ACTIVE\n' +
      '1        2025-11-24T16:00:00Z  aaaaaaaaaaaa\n' +
      '2        2025-11-24T17:30:00Z  cccccccccccc  *\n',
  );
});

test('rollback posts the target version and says what changed', async (t) => {
  const { code, stdout, requests } = await kumo(t, ['rollback', 'greet', '--to', '1'], (_req, res) =>
    sendJson(res, 200, { function: 'greet', from: 2, to: 1 }),
  );
  assert.equal(code, 0);
  assert.equal(stdout, 'greet rolled back from version 2 to 1\n');
  assert.equal(requests[0]?.method, 'POST');
  assert.equal(requests[0]?.url.pathname, '/api/v1/functions/greet/rollback');
  assert.deepEqual(JSON.parse(requests[0]?.body.toString() ?? ''), { to: 1 });
});

test('rollback without --to sends an empty body, and a conflict is one line with its code', async (t) => {
  const { code, stderr, requests } = await kumo(t, ['rollback', 'greet'], (_req, res) =>
    sendJson(res, 409, { error: { code: 'conflict', message: 'greet has no version before 1' } }),
  );
  assert.equal(code, 1);
  assert.deepEqual(JSON.parse(requests[0]?.body.toString() ?? ''), {});
  assert.equal(stderr, 'kumo: greet has no version before 1 (conflict)\n');
});

test('delete --yes deletes without asking', async (t) => {
  const { code, stdout, requests } = await kumo(t, ['delete', 'greet', '--yes'], (_req, res) =>
    sendJson(res, 200, { deleted: 'greet' }),
  );
  assert.equal(code, 0);
  assert.equal(stdout, 'greet deleted\n');
  assert.equal(requests[0]?.method, 'DELETE');
  assert.equal(requests[0]?.url.pathname, '/api/v1/functions/greet');
});

test('delete does not ask when stdin is not a terminal', async (t) => {
  const { code, stdout } = await kumo(t, ['delete', 'greet'], (_req, res) =>
    sendJson(res, 200, { deleted: 'greet' }),
  );
  assert.equal(code, 0);
  assert.equal(stdout, 'greet deleted\n');
});

test('delete asks on a terminal and does nothing unless told yes', async (t) => {
  const refused = await kumo(
    t,
    ['delete', 'greet'],
    (_req, res) => sendJson(res, 200, { deleted: 'greet' }),
    {
      input: 'n\n',
      tty: true,
    },
  );
  assert.equal(refused.code, 1);
  assert.equal(refused.requests.length, 0);
  assert.match(
    refused.stderr,
    /Delete greet with all its versions and logs\? \[y\/N\] kumo: greet was not deleted\n$/,
  );

  const accepted = await kumo(
    t,
    ['delete', 'greet'],
    (_req, res) => sendJson(res, 200, { deleted: 'greet' }),
    {
      input: 'yes\n',
      tty: true,
    },
  );
  assert.equal(accepted.code, 0);
  assert.equal(accepted.stdout, 'greet deleted\n');
});

test('an unknown function is one line on stderr with its code, exit 1', async (t) => {
  const { code, stdout, stderr } = await kumo(t, ['versions', 'ghost'], (_req, res) =>
    sendJson(res, 404, { error: { code: 'function_not_found', message: 'no function named "ghost"' } }),
  );
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr, 'kumo: no function named "ghost" (function_not_found)\n');
});

test('an error that is not kumo JSON still becomes one line with the status', async (t) => {
  const { code, stderr } = await kumo(t, ['list'], (_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>\n<body>Bad gateway</body>\n</html>');
  });
  assert.equal(code, 1);
  assert.equal(stderr, 'kumo: server answered 502 Bad Gateway: <html> <body>Bad gateway</body> </html>\n');
});

test('an answer of the wrong shape is reported, not printed as undefined', async (t) => {
  const { code, stderr } = await kumo(t, ['list'], (_req, res) => sendJson(res, 200, { items: [] }));
  assert.equal(code, 1);
  assert.match(stderr, /^kumo: unexpected answer to GET \/api\/v1\/functions: "functions" /);
});

const LINES = [
  {
    time: T1,
    function: 'greet',
    version: 2,
    invocationId: '0123456789abcdef',
    stream: 'stdout',
    line: 'hello',
  },
  {
    time: T2 + 5,
    function: 'greet',
    version: 2,
    invocationId: null,
    stream: 'system',
    line: 'instance started',
  },
];

test('logs prints TIME [vN invId8] stream: line and passes --since and --limit', async (t) => {
  const { code, stdout, requests } = await kumo(
    t,
    ['logs', 'greet', '--since', '10m', '--limit', '50'],
    (_req, res) => sendJson(res, 200, { lines: LINES }),
  );
  assert.equal(code, 0);
  assert.equal(requests[0]?.url.pathname, '/api/v1/functions/greet/logs');
  assert.equal(requests[0]?.url.searchParams.get('since'), '10m');
  assert.equal(requests[0]?.url.searchParams.get('limit'), '50');
  assert.equal(requests[0]?.url.searchParams.get('follow'), null);
  assert.equal(
    stdout,
    '2025-11-24T16:00:00.000Z [v2 01234567] stdout: hello\n' +
      '2025-11-24T17:30:00.005Z [v2 -] system: instance started\n',
  );
});

test('logs --follow prints NDJSON lines as they arrive until the stream ends', async (t) => {
  const { code, stdout, requests } = await kumo(t, ['logs', 'greet', '-f'], (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    // One line split across two writes: the reader must join them.
    const first = JSON.stringify(LINES[0]);
    res.write(first.slice(0, 10));
    res.write(`${first.slice(10)}\n`);
    res.end(`${JSON.stringify(LINES[1])}\n`);
  });
  assert.equal(code, 0);
  assert.equal(requests[0]?.url.searchParams.get('follow'), '1');
  assert.equal(requests[0]?.headers.accept, 'application/x-ndjson');
  assert.equal(stdout.split('\n').length, 3);
  assert.match(stdout, /^2025-11-24T16:00:00\.000Z \[v2 01234567\] stdout: hello\n/);
});

test('logs --follow --json prints one JSON object per line', async (t) => {
  const { stdout } = await kumo(t, ['logs', 'greet', '--follow', '--json'], (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(LINES.map((l) => `${JSON.stringify(l)}\n`).join(''));
  });
  assert.deepEqual(
    stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l)),
    LINES,
  );
});
