import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseManifest, toFunctionSpec } from '../../core/index.ts';
import { build, start } from './test-support.ts';
import type { TestInstance, Workspace } from './test-support.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

// Any registry access must fail fast: ts-deps must install offline.
process.env.npm_config_registry = 'http://127.0.0.1:9/';

/** Builds examples/NAME with its kumo.yaml, starts it, and hands the instance to `fn`. */
async function withExample(name: string, fn: (instance: TestInstance) => Promise<void>): Promise<void> {
  const sourceDir = join(EXAMPLES, name);
  const manifest = parseManifest(
    parse(await readFile(join(sourceDir, 'kumo.yaml'), 'utf8')),
    `${name}/kumo.yaml`,
  );
  const root = await mkdtemp(join(tmpdir(), `kumo-example-${name}-`));
  const ws: Workspace = {
    root,
    sourceDir,
    outDir: join(root, 'out'),
    spec: toFunctionSpec(manifest, name),
    log: [],
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  try {
    await build(ws);
    const instance = start(ws);
    try {
      assert.deepEqual(await instance.control, { type: 'ready' }, instance.stderr.join('\n'));
      await fn(instance);
    } finally {
      await instance.kill();
    }
  } finally {
    await ws.cleanup();
  }
}

const json = { 'content-type': 'application/json' };

test('examples/greet answers GET ?name=, POST {"name"} and no name', () =>
  withExample('greet', async (fn) => {
    assert.deepEqual((await fn.request({ path: '/?name=World' })).json(), { message: 'Hello, World!' });
    assert.deepEqual((await fn.request({ path: '/?name=Ada' })).json(), { message: 'Hello, Ada!' });
    const posted = await fn.request({ method: 'POST', body: '{"name":"World"}', headers: json });
    assert.deepEqual(posted.json(), { message: 'Hello, World!' });
    assert.deepEqual((await fn.request()).json(), { message: 'Hello, World!' });
  }));

test('examples/hello-node answers with req.payload and res.json', () =>
  withExample('hello-node', async (fn) => {
    const res = await fn.request({ method: 'POST', body: '{"name":"Ada"}', headers: json });
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(res.json(), { message: 'Hello, Ada!', method: 'POST' });
    assert.deepEqual((await fn.request()).json(), { message: 'Hello, World!', method: 'GET' });
  }));

test('examples/hello-lambda answers as an AWS handler', () =>
  withExample('hello-lambda', async (fn) => {
    const res = await fn.request({ path: '/?name=Ada', headers: { 'x-kumo-invocation-id': 'inv-ex' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { message: 'Hello, Ada!', requestId: 'inv-ex' });
    const posted = (await fn.request({ method: 'POST', body: '{"name":"Bo"}' })).json() as {
      message: string;
    };
    assert.equal(posted.message, 'Hello, Bo!');
  }));

test('examples/hello-plain answers with environment.code', () =>
  withExample('hello-plain', async (fn) => {
    const ok = await fn.request({ method: 'POST', body: 'Ada' });
    assert.equal(ok.status, 200);
    assert.equal(ok.text, 'Hello, Ada!');
    assert.equal((await fn.request()).status, 400);
  }));

test('examples/ts-deps installs its vendored file: dependency offline and uses it', () =>
  withExample('ts-deps', async (fn) => {
    assert.equal((await fn.request({ path: '/?name=ada' })).text, 'HELLO, ADA!');
  }));
