import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../run.ts';
import type { RecordedRequest } from '../fake-server.ts';
import { captureIO, startFakeServer } from '../fake-server.ts';

/** Runs `kumo invoke …` against a fake function answering with `answer` (default: 200 echoing the body). */
async function invoke(
  t: { after(fn: () => Promise<void>): void },
  argv: string[],
  options: {
    input?: string;
    cwd?: string;
    answer?: (req: RecordedRequest, res: ServerResponse) => void;
  } = {},
) {
  const answer =
    options.answer ??
    ((req: RecordedRequest, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-kumo-version': '3' });
      res.end(req.body.length > 0 ? req.body : 'hello');
    });
  const server = await startFakeServer(answer);
  t.after(() => server.close());
  const captured = captureIO({
    env: { KUMO_URL: server.url },
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const code = await runCli(['invoke', ...argv], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr(), requests: server.requests };
}

test('sends a GET to /fn/NAME/ without data and prints the body', async (t) => {
  const { code, stdout, stderr, requests } = await invoke(t, ['greet']);
  assert.equal(code, 0);
  assert.equal(stderr, '');
  assert.equal(stdout, 'hello');
  assert.equal(requests[0]?.method, 'GET');
  assert.equal(requests[0]?.url.pathname, '/fn/greet/');
});

test('POSTs --data with the path, query and headers given', async (t) => {
  const { code, stdout, requests } = await invoke(t, [
    'greet',
    '--data',
    '{"name":"kumo"}',
    '--path',
    '/hello/world?x=1&y=2',
    '--header',
    'X-Trace: abc',
    '-H',
    'Authorization: Bearer t:k',
  ]);
  assert.equal(code, 0);
  assert.equal(stdout, '{"name":"kumo"}');
  const req = requests[0];
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url.pathname, '/fn/greet/hello/world');
  assert.equal(req.url.search, '?x=1&y=2');
  assert.equal(req.headers['x-trace'], 'abc');
  assert.equal(req.headers.authorization, 'Bearer t:k');
  assert.equal(req.headers['content-type'], 'application/json');
});

test('--method overrides the default and a text body is sent as text/plain', async (t) => {
  const { requests } = await invoke(t, ['greet', '-X', 'put', '-d', 'plain words']);
  assert.equal(requests[0]?.method, 'PUT');
  assert.equal(requests[0]?.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(requests[0]?.body.toString(), 'plain words');
});

test('--data - reads the body from stdin and --data-file from a file', async (t) => {
  const fromStdin = await invoke(t, ['greet', '--data', '-'], { input: 'piped in' });
  assert.equal(fromStdin.requests[0]?.body.toString(), 'piped in');
  assert.equal(fromStdin.requests[0]?.method, 'POST');

  const cwd = await mkdtemp(path.join(tmpdir(), 'kumo-invoke-'));
  t.after(() => rm(cwd, { recursive: true, force: true }));
  await writeFile(path.join(cwd, 'body.bin'), Buffer.from([0, 1, 2, 255]));
  const fromFile = await invoke(t, ['greet', '--data-file', 'body.bin'], { cwd });
  assert.deepEqual([...(fromFile.requests[0]?.body ?? [])], [0, 1, 2, 255]);
  assert.equal(fromFile.requests[0]?.headers['content-type'], 'application/octet-stream');
});

test('-i prints the status line and headers before the body', async (t) => {
  const { stdout } = await invoke(t, ['greet', '-i']);
  assert.match(stdout, /^HTTP\/1\.1 200 OK\n/);
  assert.match(stdout, /\nx-kumo-version: 3\n/);
  assert.match(stdout, /\n\nhello$/);
});

test('a non-2xx answer exits 1 and still prints the body', async (t) => {
  const { code, stdout, stderr } = await invoke(t, ['greet'], {
    answer: (_req, res) => {
      res.writeHead(504, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"deadline_exceeded","message":"greet ran past its 30s timeout"}}');
    },
  });
  assert.equal(code, 1);
  assert.equal(stdout, '{"error":{"code":"deadline_exceeded","message":"greet ran past its 30s timeout"}}');
  assert.equal(stderr, '');
});

test('streams the body as it arrives', { timeout: 10_000 }, async (t) => {
  let release: () => void = () => {};
  const secondChunkAllowed = new Promise<void>((resolve) => (release = resolve));
  const server = await startFakeServer(async (_req, res) => {
    res.writeHead(200);
    res.write('first\n');
    await secondChunkAllowed;
    res.end('second\n');
  });
  t.after(() => server.close());
  const captured = captureIO({ env: { KUMO_URL: server.url } });
  const { io } = captured;
  // The second chunk is only sent once the first one has reached stdout.
  const original = io.stdout.write.bind(io.stdout);
  io.stdout.write = ((chunk: Uint8Array | string) => {
    if (Buffer.from(chunk).toString() === 'first\n') release();
    return original(chunk);
  }) as typeof io.stdout.write;
  assert.equal(await runCli(['invoke', 'greet'], io), 0);
  assert.equal(captured.stdout(), 'first\nsecond\n');
});

test('--json prints status, headers and body as one JSON value', async (t) => {
  const { code, stdout } = await invoke(t, ['greet', '--json']);
  assert.equal(code, 0);
  const printed: unknown = JSON.parse(stdout);
  assert.ok(typeof printed === 'object' && printed !== null);
  assert.equal('status' in printed && printed.status, 200);
  assert.equal('body' in printed && printed.body, 'hello');
});

test('on a terminal a body without a final newline gets one; piped output stays byte for byte', async (t) => {
  const server = await startFakeServer((_req, res) => void res.end('no newline'));
  t.after(() => server.close());
  for (const tty of [true, false]) {
    const captured = captureIO({ env: { KUMO_URL: server.url } });
    Object.assign(captured.io.stdout, { isTTY: tty });
    assert.equal(await runCli(['invoke', 'greet'], captured.io), 0);
    assert.equal(captured.stdout(), tty ? 'no newline\n' : 'no newline');
  }
});
