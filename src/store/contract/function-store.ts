/** The FunctionStore contract: functions, versions, version sources and log lines. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogLine } from '../../core/index.ts';
import { versionOf, withStores, type OpenStores } from './support.ts';

/** Every FunctionStore passes these. */
export function describeFunctionStoreContract(open: OpenStores): void {
  describe('FunctionStore contract', () => {
    test('versions are numbered, activated atomically and rolled back without reusing numbers', () =>
      withStores(open, async ({ functions: s }) => {
        assert.equal(await s.nextVersion('f'), 1);
        assert.equal(await s.getFunction('f'), undefined);
        await s.addVersion(versionOf('f', 1));
        await s.addVersion(versionOf('f', 2));
        assert.equal(await s.nextVersion('f'), 3);
        assert.equal((await s.getFunction('f'))?.activeVersion, 2);
        assert.equal(await s.setActiveVersion('f', 1, 5), true);
        assert.equal((await s.getFunction('f'))?.activeVersion, 1);
        assert.equal((await s.getFunction('f'))?.updatedAt, 5);
        assert.equal(await s.nextVersion('f'), 3, 'rollback does not reuse numbers');
        assert.equal(await s.setActiveVersion('f', 7, 5), false);
        assert.equal(await s.setActiveVersion('g', 1, 5), false);
        assert.deepEqual(
          (await s.listVersions('f')).map((v) => v.version),
          [1, 2],
        );
        assert.deepEqual(await s.getVersion('f', 2), versionOf('f', 2));
        assert.equal(await s.getVersion('f', 9), undefined);
      }));

    test('functions are listed by name; a deleted one is gone with its versions and logs, its numbers restart', () =>
      withStores(open, async ({ functions: s }) => {
        await s.addVersion(versionOf('b', 1));
        await s.addVersion(versionOf('a', 1));
        assert.deepEqual(
          (await s.listFunctions()).map((f) => f.name),
          ['a', 'b'],
        );
        await s.appendLogs([line('b', 1)]);
        assert.equal(await s.deleteFunction('b'), true);
        assert.equal(await s.deleteFunction('b'), false);
        assert.equal(await s.getFunction('b'), undefined);
        assert.deepEqual(await s.listVersions('b'), []);
        assert.deepEqual(await s.queryLogs({ function: 'b', limit: 10 }), []);
        assert.equal(await s.nextVersion('b'), 1);
        assert.deepEqual(
          (await s.listFunctions()).map((f) => f.name),
          ['a'],
        );
      }));

    test('old versions are deleted, never the active one; builds and bundles in use are found', () =>
      withStores(open, async ({ functions: s }) => {
        for (const n of [1, 2, 3]) await s.addVersion(versionOf('f', n));
        await s.addVersion(versionOf('g', 7, { hash: 'shared' }));
        assert.equal(await s.buildInUse('/b/f/1'), true);
        assert.equal(await s.bundleInUse('bf1'), true);
        assert.deepEqual(
          await s.hashesInUse(['h1', 'h3', 'shared', 'none']),
          new Set(['h1', 'h3', 'shared']),
        );
        assert.deepEqual(await s.hashesInUse([]), new Set());
        assert.equal(await s.deleteVersions('f', [1, 3]), 1, 'version 3 is active');
        assert.deepEqual(
          (await s.listVersions('f')).map((v) => v.version),
          [2, 3],
        );
        assert.equal(await s.buildInUse('/b/f/1'), false);
        assert.equal(await s.bundleInUse('bf1'), false);
        assert.deepEqual(await s.hashesInUse(['h1', 'h2', 'h3']), new Set(['h2', 'h3']));
        assert.equal(await s.nextVersion('f'), 4);
      }));

    test('where a version came from is recorded and replaced', () =>
      withStores(open, async ({ functions: s }) => {
        await s.addVersion(versionOf('f', 1));
        assert.equal(await s.getSource('f', 1), undefined);
        const git = {
          function: 'f',
          version: 1,
          kind: 'git',
          repository: 'https://x/r.git',
          ref: 'main',
          commit: 'abc',
        } as const;
        await s.recordSource(git);
        assert.deepEqual(await s.getSource('f', 1), git);
        const upload = { ...git, kind: 'upload', repository: null, ref: null, commit: null } as const;
        await s.recordSource(upload);
        assert.deepEqual(await s.getSource('f', 1), upload);
      }));

    test('logs get increasing ids, are queried newest-limited oldest first, filtered, and pruned per function', () =>
      withStores(open, async ({ functions: s }) => {
        const a = Array.from({ length: 10 }, (_, i) => line('a', i));
        await s.appendLogs(a);
        await s.appendLogs(Array.from({ length: 3 }, (_, i) => line('b', i)));
        const ids = a.map((l) => l.id ?? 0);
        assert.ok(
          ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0)),
          'ids increase in order',
        );
        assert.deepEqual(
          (await s.queryLogs({ function: 'a', limit: 3 })).map((l) => l.line),
          ['a7', 'a8', 'a9'],
        );
        assert.deepEqual(
          (await s.queryLogs({ function: 'a', limit: 100, since: 8 })).map((l) => l.line),
          ['a8', 'a9'],
        );
        assert.deepEqual(
          (await s.queryLogs({ function: 'a', limit: 100, until: 2 })).map((l) => l.line),
          ['a0', 'a1'],
        );
        assert.deepEqual(
          (await s.queryLogs({ function: 'a', limit: 100, afterId: ids[7] ?? 0 })).map((l) => l.line),
          ['a8', 'a9'],
        );
        assert.deepEqual(
          (await s.queryLogs({ function: 'a', limit: 100, contains: 'A5' })).map((l) => l.line),
          ['a5'],
          'search ignores case',
        );
        assert.equal(await s.pruneLogs(4), 6);
        assert.deepEqual(
          (await s.queryLogs({ function: 'a', limit: 100 })).map((l) => l.line),
          ['a6', 'a7', 'a8', 'a9'],
        );
        const [b0] = await s.queryLogs({ function: 'b', limit: 1 });
        assert.deepEqual({ ...b0, id: undefined }, { ...line('b', 2), id: undefined });
        assert.equal((await s.queryLogs({ function: 'b', limit: 100 })).length, 3);
      }));
  });
}

function line(fn: string, i: number): LogLine {
  return { time: i, function: fn, version: 1, invocationId: null, stream: 'stdout', line: `${fn}${i}` };
}
