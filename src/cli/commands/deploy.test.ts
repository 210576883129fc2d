import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { Parser } from 'tar';
import { runCli } from '../run.ts';
import type { RecordedRequest } from '../fake-server.ts';
import { captureIO, sendJson, sendNdjson, startFakeServer } from '../fake-server.ts';

const RESULT = {
  function: 'greet',
  version: 1,
  created: true,
  hash: 'sha256:0123456789abcdef',
  url: 'http://greet.localhost:8080',
  path: 'http://localhost:8080/fn/greet',
  files: 2,
  bytes: 300,
  buildLog: 'compiled index.ts',
  durationMs: 12,
};

/** A function folder with two files (index.ts and, when `manifest`, kumo.yaml). */
async function functionFolder(
  t: { after(fn: () => Promise<void>): void },
  manifest?: string,
): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), 'kumo-deploy-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  const folder = path.join(parent, 'hello-fn');
  await mkdir(folder);
  await writeFile(path.join(folder, 'index.ts'), 'export default () => new Response("hi");\n');
  await writeFile(path.join(folder, 'kumo.yaml'), manifest ?? 'runtime: node\n');
  return folder;
}

/** Runs `kumo deploy …` against a fake server answering with `answer`. */
async function deploy(
  t: { after(fn: () => Promise<void>): void },
  argv: string[],
  answer: (req: RecordedRequest, res: ServerResponse) => void,
) {
  const server = await startFakeServer(answer);
  t.after(() => server.close());
  const captured = captureIO({ env: { KUMO_URL: server.url } });
  const code = await runCli(['deploy', ...argv], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr(), requests: server.requests };
}

async function tarPaths(data: Buffer): Promise<string[]> {
  const paths: string[] = [];
  const parser = new Parser({
    onReadEntry: (e) => {
      paths.push(e.path);
      e.resume();
    },
  });
  const ended = once(parser, 'end');
  parser.end(data);
  await ended;
  return paths;
}

test('prints the three steps and the URLs from the NDJSON stream', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout, stderr } = await deploy(t, [folder, '--name', 'greet'], (_req, res) =>
    sendNdjson(res, [
      { event: 'build', version: 1 },
      { event: 'log', line: 'compiled index.ts' },
      { event: 'start' },
      { event: 'done', result: RESULT },
    ]),
  );
  assert.equal(stderr, '');
  assert.equal(code, 0);
  assert.match(
    stdout,
    /^\[1\/3\] Packaging greet \(2 files, \d+ B\)\.\.\. done\n\[2\/3\] Building version 1\.\.\. done\n\[3\/3\] Starting\.\.\. done\ngreet is live at http:\/\/greet\.localhost:8080 \(also http:\/\/localhost:8080\/fn\/greet\)\n$/,
  );
});

test('uploads the gzipped folder with the flags as query parameters and asks for NDJSON', async (t) => {
  const folder = await functionFolder(t);
  const { code, requests } = await deploy(
    t,
    [
      folder,
      '--name',
      'greet',
      '--handler',
      'index.ts',
      '--memory',
      '128',
      '--timeout',
      '10s',
      '--env',
      'A=1',
      '--env',
      'B=x=y',
    ],
    (_req, res) => sendNdjson(res, [{ event: 'done', result: RESULT }]),
  );
  assert.equal(code, 0);
  const [req] = requests;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url.pathname, '/api/v1/functions');
  assert.equal(req.url.searchParams.get('name'), 'greet');
  assert.equal(req.url.searchParams.get('handler'), 'index.ts');
  assert.equal(req.url.searchParams.get('memory'), '128');
  assert.equal(req.url.searchParams.get('timeout'), '10s');
  assert.deepEqual(req.url.searchParams.getAll('env'), ['A=1', 'B=x=y']);
  assert.equal(req.headers['content-type'], 'application/gzip');
  assert.equal(req.headers.accept, 'application/x-ndjson');
  assert.deepEqual(await tarPaths(req.body), ['index.ts', 'kumo.yaml']);
});

test('names the function from kumo.yaml, else from the folder', async (t) => {
  const named = await functionFolder(t, 'name: from-yaml\n');
  const fromYaml = await deploy(t, [named], (_req, res) =>
    sendNdjson(res, [{ event: 'done', result: RESULT }]),
  );
  assert.equal(fromYaml.requests[0]?.url.searchParams.get('name'), 'from-yaml');
  assert.match(fromYaml.stdout, /^\[1\/3\] Packaging from-yaml /);

  const unnamed = await functionFolder(t);
  const fromFolder = await deploy(t, [unnamed], (_req, res) =>
    sendNdjson(res, [{ event: 'done', result: RESULT }]),
  );
  assert.equal(fromFolder.requests[0]?.url.searchParams.get('name'), 'hello-fn');
});

test('refuses a folder name that is not a function name without uploading', async (t) => {
  const folder = await functionFolder(t, 'name: Not_Valid\n');
  const { code, stderr, requests } = await deploy(t, [folder], (_req, res) => sendJson(res, 500, {}));
  assert.equal(code, 1);
  assert.match(
    stderr,
    /^kumo: function name "Not_Valid" \(from kumo.yaml\) is not a DNS label.*\(invalid_name\)\n$/,
  );
  assert.equal(requests.length, 0);
});

test('says the version is unchanged when the content is identical', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout } = await deploy(t, [folder, '--name', 'greet'], (_req, res) =>
    sendNdjson(res, [{ event: 'done', result: { ...RESULT, version: 4, created: false } }]),
  );
  assert.equal(code, 0);
  assert.match(
    stdout,
    /^\[1\/3\] Packaging greet .*\n(?!\[2\/3\])greet is unchanged: version 4 is already active \(identical content\)\n$/,
  );
});

test('--json prints only the final DeployResult', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout } = await deploy(t, [folder, '--name', 'greet', '--json'], (_req, res) =>
    sendNdjson(res, [{ event: 'build', version: 1 }, { event: 'start' }, { event: 'done', result: RESULT }]),
  );
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), RESULT);
});

test('a failed build prints the whole build log on stderr and the error on one line', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout, stderr } = await deploy(t, [folder, '--name', 'greet'], (_req, res) =>
    sendNdjson(res, [
      { event: 'build', version: 2 },
      { event: 'log', line: 'compiling index.ts' },
      {
        event: 'error',
        error: {
          code: 'build_failed',
          message: 'build of greet version 2 failed: the previous version keeps serving',
          details: { log: 'compiling index.ts\nindex.ts(1,1): error TS1005' },
        },
      },
    ]),
  );
  assert.equal(code, 1);
  assert.match(stdout, /\[2\/3\] Building version 2\.\.\. failed\n$/);
  assert.equal(
    stderr,
    'compiling index.ts\nindex.ts(1,1): error TS1005\n' +
      'kumo: build of greet version 2 failed: the previous version keeps serving (build_failed)\n',
  );
});

test('--verbose shows build log lines as they come and closes the interrupted step line', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout, stderr } = await deploy(t, [folder, '--name', 'greet', '--verbose'], (_req, res) =>
    sendNdjson(res, [
      { event: 'build', version: 1 },
      { event: 'log', line: 'installing' },
      { event: 'log', line: 'compiled index.ts' },
      { event: 'start' },
      { event: 'done', result: RESULT },
    ]),
  );
  assert.equal(code, 0);
  assert.equal(stderr, '  installing\n  compiled index.ts\n');
  assert.match(
    stdout,
    /\n\[2\/3\] Building version 1\.\.\.\n\[2\/3\] Building version 1\.\.\. done\n\[3\/3\] Starting\.\.\. done\n/,
  );
});

test('an error before the stream is one line on stderr with its code, exit 1', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout, stderr } = await deploy(t, [folder, '--name', 'greet'], (_req, res) =>
    sendJson(res, 400, {
      error: {
        code: 'invalid_manifest',
        message: 'kumo.yaml: "memory" must be between 64 and 4096 MB (got 10)',
      },
    }),
  );
  assert.equal(code, 1);
  assert.match(stdout, /^\[1\/3\] Packaging greet/);
  assert.equal(
    stderr,
    'kumo: kumo.yaml: "memory" must be between 64 and 4096 MB (got 10) (invalid_manifest)\n',
  );
});

test('a stream that ends before done is a failure', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout, stderr } = await deploy(t, [folder, '--name', 'greet'], (_req, res) =>
    sendNdjson(res, [{ event: 'build', version: 1 }]),
  );
  assert.equal(code, 1);
  assert.match(stdout, /Building version 1\.\.\. failed\n$/);
  assert.match(stderr, /^kumo: the server ended the deploy stream before the deploy finished/);
});

test('a server answering plain JSON still gets the three lines', async (t) => {
  const folder = await functionFolder(t);
  const { code, stdout } = await deploy(t, [folder, '--name', 'greet'], (_req, res) =>
    sendJson(res, 201, RESULT),
  );
  assert.equal(code, 0);
  assert.match(
    stdout,
    /\n\[2\/3\] Building version 1\.\.\. done\n\[3\/3\] Starting\.\.\. done\ngreet is live at /,
  );
});
