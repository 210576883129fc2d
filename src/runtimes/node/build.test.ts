import assert from 'node:assert/strict';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { KumoError } from '../../core/index.ts';
import { npmEnvironment } from './dependencies.ts';
import { build, start, workspace } from './test-support.ts';
import type { Files } from './test-support.ts';
import type { ManifestInput } from '../../core/index.ts';

// Any registry access must fail fast: the dependency tests prove installs work offline.
process.env.npm_config_registry = 'http://127.0.0.1:9/';
process.env.npm_config_fetch_retries = '0';

/** Builds `files` and returns the KumoError the build threw. */
async function buildError(
  files: Files,
  manifest: ManifestInput = {},
): Promise<{ error: KumoError; log: string[] }> {
  const ws = await workspace(files, manifest);
  try {
    await build(ws);
  } catch (err) {
    assert.ok(err instanceof KumoError, `expected a KumoError, got ${String(err)}`);
    return { error: err, log: ws.log };
  } finally {
    await ws.cleanup();
  }
  assert.fail('the build succeeded');
}

/** The `details.log` of a build_failed error. */
function logOf(error: KumoError): string {
  const log = (error.details as { log?: unknown } | undefined)?.log;
  assert.equal(typeof log, 'string');
  return log as string;
}

test('a TypeScript entry is bundled next to itself with its local imports and a source map', async () => {
  const ws = await workspace(
    {
      'src/main.ts': `import { greet } from './lib/greet.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const os = require('node:os');
export default {
  fetch: (r: Request): Response => Response.json({
    greeting: greet(new URL(r.url).searchParams.get('n') ?? 'x'),
    viaDirname: readFileSync(join(__dirname, 'data.txt'), 'utf8'),
    viaMetaUrl: readFileSync(new URL('./data.txt', import.meta.url), 'utf8'),
    viaRequire: typeof os.cpus,
  }),
};
`,
      'src/lib/greet.ts': `export function greet(name: string): string { return \`hi \${name}\`; }\n`,
      'src/data.txt': 'data next to the entry',
    },
    { handler: 'src/main.ts' },
  );
  try {
    await build(ws);
    const info = (JSON.parse(await readFile(join(ws.outDir, 'launch.json'), 'utf8')) as { record: unknown })
      .record;
    assert.deepEqual(info, { entry: 'src/main.kumo.mjs', exportName: null, style: 'auto' });
    const bundle = await readFile(join(ws.sourceDir, 'src/main.kumo.mjs'), 'utf8');
    assert.match(bundle, /function greet\(name\)/, 'types stripped and the local import inlined');
    assert.match(bundle, /sourceMappingURL=main\.kumo\.mjs\.map/);
    await lstat(join(ws.sourceDir, 'src/main.kumo.mjs.map'));
    const instance = start(ws);
    try {
      assert.deepEqual(await instance.control, { type: 'ready' });
      assert.deepEqual((await instance.request({ path: '/?n=ts' })).json(), {
        greeting: 'hi ts',
        viaDirname: 'data next to the entry',
        viaMetaUrl: 'data next to the entry',
        viaRequire: 'function',
      });
    } finally {
      await instance.kill();
    }
  } finally {
    await ws.cleanup();
  }
});

test('a TypeScript syntax error fails the build with esbuild messages in the log', async () => {
  const { error, log } = await buildError({ 'index.ts': 'export default { fetch( { return 1 } };\n' });
  assert.equal(error.code, 'build_failed');
  assert.match(error.message, /TypeScript build of index\.ts failed: index\.ts:1:\d+: /);
  assert.match(logOf(error), /\[ERROR\] Expected "\}" but found "1"[\s\S]*index\.ts:1:\d+:/);
  assert.ok(log.some((line) => line.includes('[ERROR]')));
});

test('a JavaScript syntax error fails the build with node --check output in the log', async () => {
  const { error } = await buildError({ 'index.js': 'export default function (req) {\n  return 1 +;\n}\n' });
  assert.equal(error.code, 'build_failed');
  assert.match(error.message, /index\.js has a syntax error: SyntaxError: Unexpected token/);
  assert.match(logOf(error), /index\.js:2/);
});

test('a valid JavaScript entry runs as it is, with the export named by the handler', async () => {
  const ws = await workspace(
    { 'index.mjs': 'export const main = async () => ({ ok: true });\n' },
    { handler: 'index.main' },
  );
  try {
    await build(ws);
    const info = (JSON.parse(await readFile(join(ws.outDir, 'launch.json'), 'utf8')) as { record: unknown })
      .record;
    assert.deepEqual(info, { entry: 'index.mjs', exportName: 'main', style: 'auto' });
  } finally {
    await ws.cleanup();
  }
});

test('a missing handler file is unknown_handler', async () => {
  const { error } = await buildError({ 'README.md': 'no code' });
  assert.equal(error.code, 'unknown_handler');
  assert.match(error.message, /none of index\.ts, .*handler\.js exists/);
  const named = await buildError({ 'index.js': '' }, { handler: 'src/main.ts' });
  assert.equal(named.error.code, 'unknown_handler');
  assert.match(named.error.message, /src\/main\.ts/);
});

test('a file: dependency shipped in the bundle installs offline and is importable at run time', async () => {
  const ws = await workspace({
    'package.json': JSON.stringify({
      name: 'fn',
      private: true,
      dependencies: { shout: 'file:vendor/shout' },
    }),
    'vendor/shout/package.json': JSON.stringify({
      name: 'shout',
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
    }),
    'vendor/shout/index.js': 'export const shout = (s) => s.toUpperCase() + "!";\n',
    'index.ts': `import { shout } from 'shout';\nexport default { fetch: (): Response => new Response(shout('hey')) };\n`,
  });
  try {
    await build(ws);
    assert.ok(ws.log.some((line) => line.startsWith('$ npm install')));
    await lstat(join(ws.sourceDir, 'node_modules/shout'));
    const bundle = await readFile(join(ws.sourceDir, 'index.kumo.mjs'), 'utf8');
    assert.match(bundle, /from "shout"/, 'packages stay external');
    const instance = start(ws);
    try {
      assert.deepEqual(await instance.control, { type: 'ready' });
      assert.equal((await instance.request()).text, 'HEY!');
    } finally {
      await instance.kill();
    }
  } finally {
    await ws.cleanup();
  }
});

test('a failing npm install is build_failed with npm output in the log', async () => {
  const { error } = await buildError({
    // The registry is unreachable (see the top of this file), so fetching any package fails.
    'package.json': JSON.stringify({ name: 'fn', private: true, dependencies: { 'left-pad': '1.3.0' } }),
    'index.js': 'export default () => "x";\n',
  });
  assert.equal(error.code, 'build_failed');
  assert.match(error.message, /npm install exited with code \d+/);
  assert.match(logOf(error), /\$ npm install[\s\S]*npm (error|ERR)/);
});

test('an aborted build is build_failed "cancelled"', async () => {
  const ws = await workspace({ 'index.js': 'export default () => "x";\n' });
  try {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(build(ws, controller.signal), {
      code: 'build_failed',
      message: 'the build was cancelled',
    });
  } finally {
    await ws.cleanup();
  }
});

test('npm runs with the registry settings of the server but not its install location', () => {
  const env = npmEnvironment({
    PATH: '/bin',
    HOME: '/home/k',
    npm_config_registry: 'https://registry.example',
    HTTPS_PROXY: 'http://proxy:3128',
    npm_config_prefix: '/work/main',
    npm_config_local_prefix: '/work/main',
    SECRET_TOKEN: 'no',
  });
  assert.deepEqual(env, {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/home/k',
    npm_config_cache: '/home/k/.npm',
    npm_config_registry: 'https://registry.example',
    HTTPS_PROXY: 'http://proxy:3128',
  });
});
