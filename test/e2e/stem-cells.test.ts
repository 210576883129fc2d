/**
 * Stem cells through the real server: a cold start after scale to zero is served by a started,
 * unassigned cell (GET /api/v1/status counts it), the stock refills, a cell never serves a
 * second version or tenant (what one function leaves in /tmp, its environment or its globals,
 * the next never sees), a function that fails to load in a cell is reported like any other, and
 * `--stem-cells 0` turns them off.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import {
  apiJson,
  deploy,
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

interface Cells {
  enabled: boolean;
  ready: number;
  starting: number;
  shapes: number;
  short: number;
  hits: number;
  misses: number;
}

const cells = async (server: TestServer): Promise<Cells> =>
  ((await apiJson(server, '/status')) as { stemCells: Cells }).stemCells;

const instances = async (server: TestServer, name: string): Promise<number> =>
  ((await apiJson(server, `/functions/${name}`)) as { instances: { total: number } }).instances.total;

/**
 * Waits until `name` has scaled to zero and every shape has the cells it wants ready (so its own
 * has one), none booting nor waiting to boot: a taken cell's replacement waits for idle CPU, which
 * a loaded host may take seconds to have. (Counting ready cells against shapes was not enough: a
 * shape that missed once wants two, so its second cell could stand in for another shape's
 * pending one.)
 */
async function coldAndStocked(server: TestServer, name: string): Promise<void> {
  await eventually(async () => (await instances(server, name)) === 0, 20_000, `${name} to scale to zero`);
  await eventually(
    async () => {
      const c = await cells(server);
      return c.ready >= c.shapes && c.starting === 0 && c.short === 0;
    },
    30_000,
    'a ready stem cell of every shape',
  );
}

describe('stem cells', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.dispose();
  });

  test('a cold start after scale to zero is served by a stem cell, and the stock refills', async () => {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: hello\ninstances:\n  idle: 1s\nenv:\n  GREETING: hi\n',
        'index.js': 'export default () => new Response(`${process.env.GREETING} from ${process.cwd()}`);\n',
      }),
    );
    await coldAndStocked(server, 'hello');
    const before = await cells(server);
    const res = await invoke(server, 'hello');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hi from /var/task');
    const afterwards = await cells(server);
    assert.equal(afterwards.hits, before.hits + 1, 'the cold start took a cell');
    await eventually(async () => (await cells(server)).ready > 0, 30_000, 'the stock to refill');
  });

  test('a cell never serves a second function: files, environment and globals stay with the first', async () => {
    const probe = `
      import { existsSync, readdirSync, writeFileSync } from 'node:fs';
      export default (req) => {
        const seen = {
          tmp: existsSync('/tmp/left-by-a'),
          env: process.env.LEFT_BY_A ?? null,
          global: globalThis.leftByA ?? null,
          task: readdirSync('/var/task').sort(),
        };
        if (new URL(req.url).searchParams.has('leave')) {
          writeFileSync('/tmp/left-by-a', 'secret');
          process.env.LEFT_BY_A = 'secret';
          globalThis.leftByA = 'secret';
        }
        return Response.json(seen);
      };
    `;
    for (const name of ['tenant-a', 'tenant-b'])
      await mustDeploy(
        server,
        await writeFunction({
          'kumo.yaml': `name: ${name}\ninstances:\n  idle: 1s\n`,
          'index.js': probe,
          [`only-${name}.txt`]: name,
        }),
      );
    await coldAndStocked(server, 'tenant-a');
    const hits = (await cells(server)).hits;
    const a = (await (await invoke(server, 'tenant-a', '/?leave')).json()) as { task: string[] };
    assert.ok(a.task.includes('only-tenant-a.txt'));
    const again = (await (await invoke(server, 'tenant-a')).json()) as { tmp: boolean };
    assert.equal(again.tmp, true, 'tenant-a keeps its own /tmp while warm');
    await coldAndStocked(server, 'tenant-b');
    const b = (await (await invoke(server, 'tenant-b')).json()) as {
      tmp: boolean;
      env: string | null;
      global: string | null;
      task: string[];
    };
    assert.equal((await cells(server)).hits, hits + 2, 'both cold starts took a cell');
    assert.deepEqual(
      { tmp: b.tmp, env: b.env, global: b.global },
      { tmp: false, env: null, global: null },
      'nothing of tenant-a is visible to tenant-b',
    );
    assert.ok(b.task.includes('only-tenant-b.txt') && !b.task.includes('only-tenant-a.txt'));
  });

  test('a function that fails to load in a cell is refused like at an ordinary start', async () => {
    // Any deploy of the default shape makes the server keep cells of it.
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: shaper\n',
        'index.js': 'export default () => new Response("");\n',
      }),
    );
    await eventually(async () => (await cells(server)).ready > 0, 30_000, 'a ready stem cell');
    const hits = (await cells(server)).hits;
    const noExport = await deploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: noexport\n', 'index.js': 'export const notAHandler = 1;\n' }),
    );
    assert.equal(noExport.status, 400);
    assert.equal((noExport.body.error as { code: string }).code, 'unknown_handler');
    await eventually(async () => (await cells(server)).ready > 0, 30_000, 'a ready stem cell');
    const throws = await deploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: throws\n',
        'index.js': 'throw new Error("no config here");\n',
      }),
    );
    assert.equal(throws.status, 422);
    assert.match((throws.body.error as { message: string }).message, /no config here/);
    assert.equal((await cells(server)).hits, hits + 2, 'both deploys loaded their code in a cell');
  });
});

test('--stem-cells 0 turns stem cells off; cold starts take the ordinary path', async () => {
  const server = await startTestServer(['--stem-cells', '0']);
  try {
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: plain\n',
        'index.js': 'export default () => new Response("plain");\n',
      }),
    );
    assert.equal(await (await invoke(server, 'plain')).text(), 'plain');
    const c = await cells(server);
    assert.equal(c.enabled, false);
    assert.equal(c.ready + c.starting + c.hits, 0);
  } finally {
    await server.dispose();
  }
});

test('python, lua and exec functions take stem cells of their own runtime', async () => {
  const server = await startTestServer();
  try {
    const fns: [string, Record<string, string>, string][] = [
      [
        'py-cell',
        {
          'kumo.yaml': 'name: py-cell\nruntime: python\ninstances:\n  idle: 1s\nenv:\n  WHO: py\n',
          'lambda.py': 'import os\ndef main(input, environment):\n    return "hello " + os.environ["WHO"]\n',
        },
        'hello py',
      ],
      [
        'lua-cell',
        {
          'kumo.yaml': 'name: lua-cell\nruntime: lua\ninstances:\n  idle: 1s\n',
          'main.lua': 'function main(args)\n  return "hello lua"\nend\n',
        },
        'hello lua',
      ],
      [
        'exec-cell',
        {
          'kumo.yaml': 'name: exec-cell\nruntime: exec\ncommand: [cat]\ninstances:\n  idle: 1s\n',
        },
        'hello exec',
      ],
    ];
    for (const [name, files, expected] of fns) {
      await mustDeploy(server, await writeFunction(files));
      await coldAndStocked(server, name);
      const hits = (await cells(server)).hits;
      const res = await invoke(
        server,
        name,
        '/',
        name === 'exec-cell' ? { method: 'POST', body: expected } : {},
      );
      assert.equal(await res.text(), expected, name);
      assert.equal((await cells(server)).hits, hits + 1, `${name} started from a cell`);
    }
  } finally {
    await server.dispose();
  }
});

test('a restarted server stocks cells for its active versions before their first request', async () => {
  const first = await startTestServer();
  const dataDir = first.dataDir;
  try {
    await mustDeploy(
      first,
      await writeFunction({
        'kumo.yaml': 'name: survivor\n',
        'index.js': 'export default () => new Response("back");\n',
      }),
    );
  } finally {
    await first.close();
  }
  const second = await startTestServer([], dataDir);
  try {
    await eventually(async () => (await cells(second)).ready > 0, 30_000, 'a cell stocked at start');
    assert.equal(await (await invoke(second, 'survivor')).text(), 'back');
    assert.equal((await cells(second)).hits, 1, 'the first cold start after the restart took it');
  } finally {
    await second.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a custom runtime (provided) never gets stem cells: its bootstrap is tenant code, cold starts take the ordinary path', async () => {
  const server = await startTestServer();
  try {
    const bootstrap = [
      '#!/bin/sh',
      'API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"',
      'while true; do',
      '  H="$(mktemp)"',
      '  curl -sS -o /dev/null -D "$H" "$API/next"',
      '  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d \'[:space:]\' | cut -d: -f2)',
      '  curl -sS -o /dev/null "$API/$ID/response" -d \'{"statusCode":200,"body":"custom"}\'',
      'done',
      '',
    ].join('\n');
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: custom\nruntime: provided\ninstances:\n  idle: 1s\n',
        bootstrap,
      }),
    );
    assert.equal(await (await invoke(server, 'custom')).text(), 'custom');
    await eventually(
      async () => (await instances(server, 'custom')) === 0,
      20_000,
      'custom to scale to zero',
    );
    assert.equal(
      await (await invoke(server, 'custom')).text(),
      'custom',
      'the cold start after scale to zero',
    );
    const c = (await apiJson(server, '/status')) as { stemCells: Cells };
    assert.equal(c.stemCells.shapes, 0, 'no stock is kept for a custom runtime');
    assert.equal(c.stemCells.ready + c.stemCells.starting + c.stemCells.hits + c.stemCells.misses, 0);
    assert.deepEqual(
      server.logLines.filter((l) => l.includes('stem cell')),
      [],
      'no cell was started (and failed) for it',
    );
  } finally {
    await server.dispose();
  }
});
