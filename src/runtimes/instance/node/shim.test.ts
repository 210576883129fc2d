import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTaggedLine } from '../../../core/index.ts';
import { build, start, withInstance, workspace } from '../../node/test-support.ts';
import type { Files, TestInstance } from '../../node/test-support.ts';
import type { ManifestInput } from '../../../core/index.ts';

/** Builds and starts `files`, expecting the instance to fail at load; returns its fd 3 message and exit. */
async function failedStart(files: Files, manifest: ManifestInput = {}) {
  const ws = await workspace(files, manifest);
  let instance: TestInstance | undefined;
  try {
    await build(ws);
    instance = start(ws);
    const control = await instance.control;
    const exit = await instance.exited;
    return { control, exit, stderr: instance.stderr };
  } finally {
    await instance?.kill();
    await ws.cleanup();
  }
}

test('no recognised export: fd 3 reports unknown_handler listing the exports, exit code 1', async () => {
  const { control, exit } = await failedStart({
    'index.js': 'export const helper = 1;\nexport function other() {}\n',
  });
  assert.equal(control.type, 'error');
  assert.equal(control.code, 'unknown_handler');
  assert.match(String(control.message), /exports found: helper, other/);
  assert.equal(exit, 1);
});

test('a named export that does not exist is unknown_handler', async () => {
  const { control, exit } = await failedStart(
    { 'index.js': 'export const handler = () => 1;\n' },
    { handler: 'index.nope' },
  );
  assert.equal(control.code, 'unknown_handler');
  assert.match(String(control.message), /"nope".*exports found: handler/);
  assert.equal(exit, 1);
});

test('a module that throws at import: fd 3 reports handler_error, the stack goes to stderr, exit code 1', async () => {
  const { control, exit, stderr } = await failedStart({
    'index.js': 'throw new Error("config missing");\nexport default () => 1;\n',
  });
  assert.deepEqual(control, {
    type: 'error',
    code: 'handler_error',
    message: 'the function failed to load: Error: config missing',
  });
  assert.equal(exit, 1);
  assert.ok(
    stderr.some((line) => line.includes('index.js')),
    'stack on stderr',
  );
});

test('a module importing a missing package is handler_error', async () => {
  const { control, exit } = await failedStart({
    'index.js': 'import "not-installed-anywhere";\nexport default () => 1;\n',
  });
  assert.equal(control.code, 'handler_error');
  assert.match(String(control.message), /not-installed-anywhere/);
  assert.equal(exit, 1);
});

const LOGGING_FUNCTION = `
export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === '/background') {
      ctx.waitUntil(new Promise((resolve) => {
        process.once('SIGTERM', () => setTimeout(() => { console.log('background work done'); resolve(); }, 20));
      }));
      return 'answered before the background work';
    }
    if (path === '/log') {
      console.log('log line');
      console.info('info %s', 'formatted');
      console.warn('warn line');
      console.error('multi\\nline error');
      console.debug({ an: 'object' });
      process.stdout.write('direct write\\n');
      await new Promise((r) => setTimeout(r, 1));
      console.log('after await');
      return 'logged';
    }
    if (path === '/wait-for-sigterm') {
      console.log('waiting for SIGTERM');
      await new Promise((r) => process.once('SIGTERM', r));
      return 'finished after SIGTERM';
    }
    return 'ok';
  },
};
console.log('loaded at import');
`;

test('every line logged inside an invocation is tagged with its id; lines outside are not', async () => {
  await withInstance({ 'index.js': LOGGING_FUNCTION }, {}, async (instance) => {
    const res = await instance.request({ path: '/log', headers: { 'x-kumo-invocation-id': 'inv-log' } });
    assert.equal(res.text, 'logged');
    await instance.waitForLine(/after await/);
    const lines = [...instance.stdout, ...instance.stderr].map(parseTaggedLine);
    const ours = lines.filter((l) => l.invocationId === 'inv-log').map((l) => l.text);
    for (const text of [
      'log line',
      'info formatted',
      'warn line',
      'multi',
      'line error',
      "{ an: 'object' }",
      'direct write',
      'after await',
    ]) {
      assert.ok(ours.includes(text), `"${text}" tagged with the invocation (got ${JSON.stringify(ours)})`);
    }
    assert.deepEqual(
      lines.filter((l) => l.invocationId === null).map((l) => l.text),
      ['loaded at import'],
      'only the import-time line is untagged',
    );
  });
});

test(
  'SIGTERM lets the in-flight request finish, then the instance exits 0',
  { timeout: 20_000 },
  async () => {
    await withInstance({ 'index.js': LOGGING_FUNCTION }, {}, async (instance) => {
      const pending = instance.request({ path: '/wait-for-sigterm' });
      await instance.waitForLine(/waiting for SIGTERM/);
      instance.child.kill('SIGTERM');
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.text, 'finished after SIGTERM');
      assert.equal(await instance.exited, 0);
    });
  },
);

test('on SIGTERM, waitUntil work finishes before the instance exits', { timeout: 20_000 }, async () => {
  await withInstance({ 'index.js': LOGGING_FUNCTION }, {}, async (instance) => {
    const res = await instance.request({
      path: '/background',
      headers: { 'x-kumo-invocation-id': 'inv-bg' },
    });
    assert.equal(res.text, 'answered before the background work');
    instance.child.kill('SIGTERM');
    assert.equal(await instance.exited, 0);
    // Had the shim exited at once, the 20 ms timer of the background work would never have fired.
    assert.ok(instance.stdout.includes('background work done'), 'the background work ran to the end');
  });
});

test('a stale socket file is replaced and the instance reports ready', async () => {
  const ws = await workspace({ 'index.js': 'export default () => "fresh";\n' });
  let instance: TestInstance | undefined;
  try {
    await build(ws);
    await writeFile(join(ws.root, 'instance.sock'), 'stale');
    instance = start(ws);
    assert.deepEqual(await instance.control, { type: 'ready' });
    assert.equal((await instance.request()).text, 'fresh');
  } finally {
    await instance?.kill();
    await ws.cleanup();
  }
});

test('concurrent invocations are served at once, each with its own id in its logs', async () => {
  const files = {
    'index.js': `export const handler = async (event, context) => {
      console.log('start ' + event.rawPath);
      await new Promise((r) => setTimeout(r, 20));
      console.log('end ' + event.rawPath);
      return { statusCode: 200, body: context.awsRequestId };
    };\n`,
  };
  await withInstance(files, {}, async (instance) => {
    const ids = ['c-1', 'c-2', 'c-3'];
    const results = await Promise.all(
      ids.map((id) => instance.request({ path: `/${id}`, headers: { 'x-kumo-invocation-id': id } })),
    );
    assert.deepEqual(
      results.map((r) => r.text),
      ids,
    );
    await instance.waitForLine(/end \/c-3/);
    for (const id of ids) {
      const tagged = instance.stdout.map(parseTaggedLine).filter((l) => l.text.endsWith(`/${id}`));
      assert.deepEqual(
        tagged.map((l) => l.invocationId),
        [id, id],
        `both lines of ${id} carry its id`,
      );
    }
  });
});
