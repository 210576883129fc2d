/**
 * The build's answer crosses a trust boundary: tenant code runs in the build sandbox and can forge
 * its output tar and its fd-3 report. These drive the Builder with a driver that answers as such a
 * build would, and check that kumo keeps nothing that escapes the bundle.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Header } from 'tar';
import { parseManifest, toFunctionSpec, DEFAULT_BUILD_LIMITS } from '../core/index.ts';
import type { Driver, JobResult, JobSpec } from '../drivers/index.ts';
import { readLaunchRecord } from '../runtimes/launch-record.ts';
import { readLaunchInfo } from '../runtimes/node/artefact.ts';
import { Builder } from './builder.ts';

/** A tar holding one empty entry: a symlink to `target`, or a file. */
function oneEntryTar(name: string, target?: string): Buffer {
  const header = new Header(
    target === undefined
      ? { path: name, type: 'File', mode: 0o644, size: 0 }
      : { path: name, type: 'SymbolicLink', linkpath: target, mode: 0o777, size: 0 },
  );
  const block = Buffer.alloc(512);
  header.encode(block, 0);
  return Buffer.concat([block, Buffer.alloc(1024)]);
}

/** A driver whose "build" answers with `stdout` and `control`, as a forging tenant's would. */
function forging(stdout: Buffer, control: object): Driver {
  return {
    name: 'forging',
    neutralPaths: true,
    forget: async () => {},
    start: () => Promise.reject(new Error('not used')),
    capabilities: async () => [],
    run: async (job: JobSpec): Promise<JobResult> => {
      job.stdin.resume();
      job.stdout.write(stdout);
      return { code: 0, signal: null, reason: 'exited', control: `${JSON.stringify(control)}\n` };
    },
  };
}

async function buildWith(
  driver: Driver,
): Promise<{ error: unknown; outDir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kumo-builder-'));
  const sourceDir = path.join(root, 'src');
  await (await import('node:fs/promises')).mkdir(sourceDir);
  const outDir = path.join(root, 'out');
  const builder = new Builder({ driver, workRoot: path.join(root, 'work'), toolEnv: {} });
  let error: unknown;
  try {
    await builder.build({
      runtime: 'node',
      sourceDir,
      outDir,
      spec: toFunctionSpec(parseManifest({}), 'forged'),
      limits: DEFAULT_BUILD_LIMITS,
      signal: new AbortController().signal,
    });
  } catch (err) {
    error = err;
  }
  return { error, outDir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

test('a build whose output holds a symlink out of the bundle fails, and nothing of it is kept', async () => {
  const r = await buildWith(
    forging(oneEntryTar('escape', '/etc'), {
      type: 'built',
      record: { entry: 'index.js', exportName: null, style: 'auto' },
    }),
  );
  try {
    assert.equal((r.error as { code?: string }).code, 'build_failed');
    assert.match((r.error as Error).message, /output was refused/);
    assert.equal((await readdir(path.dirname(r.outDir))).includes('out'), false);
  } finally {
    await r.cleanup();
  }
});

test('a forged launch record naming a file outside the bundle is kept only as data and refused at launch', async () => {
  const r = await buildWith(
    forging(oneEntryTar('index.js'), {
      type: 'built',
      record: { entry: '../../../etc/passwd', exportName: null, style: 'auto' },
    }),
  );
  try {
    assert.equal(r.error, undefined);
    assert.deepEqual(readLaunchRecord(r.outDir, 'node').entry, '../../../etc/passwd');
    assert.throws(() => readLaunchInfo(r.outDir), {
      code: 'instance_failed_to_start',
      message: /must be a path inside the bundle/,
    });
  } finally {
    await r.cleanup();
  }
});
