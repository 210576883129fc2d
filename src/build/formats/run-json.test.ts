import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { translateRunJson } from './run-json.ts';

async function translate(files: Record<string, string>): Promise<unknown> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-runjson-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    return await translateRunJson(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('run.json: executables, interpreted functions and interpreted programs', async () => {
  assert.equal(await translate({}), undefined);
  assert.deepEqual(
    await translate({
      'run.json': '{"type":"executable","language":"x86-64","command":"jq.exe","arguments":"."}',
    }),
    {
      runtime: 'exec',
      command: ['jq.exe', '.'],
    },
  );
  assert.deepEqual(
    await translate({
      'run.json': '{"type":"interpreted","language":"python","command":"python","arguments":"lambda.py"}',
      'lambda.py': 'def main(input, environment):\n    return input\n',
    }),
    { runtime: 'python', handler: 'lambda.py' },
  );
  assert.deepEqual(
    await translate({
      'run.json': '{"type":"interpreted","language":"python","command":"python","arguments":"tool.py -v"}',
      'tool.py': 'import sys\nprint(sys.stdin.read())\n',
    }),
    { runtime: 'exec', command: ['python', 'tool.py', '-v'] },
  );
  await assert.rejects(
    translate({ 'run.json': '{"type":"docker","command":"x"}' }),
    /"type" must be "executable" or "interpreted"/,
  );
});
