/** The PluginStore contract: kv and docs data with their usage counted against quotas. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoredDoc } from '../plugin-store.ts';
import { withStores, type OpenStores } from './support.ts';

const ROOMY = { items: 100, bytes: 10_000 };

/** Every PluginStore passes these. */
export function describePluginStoreContract(open: OpenStores): void {
  describe('PluginStore contract', () => {
    test('kv values are namespaced by function, listed by prefix in order, and counted', () =>
      withStores(open, async ({ plugins: s }) => {
        assert.equal(await s.kvSet('f', 'b', '2', 1, ROOMY), undefined);
        await s.kvSet('f', 'a%', '"x"', 1, ROOMY);
        await s.kvSet('f', 'a1', '1', 1, ROOMY);
        await s.kvSet('g', 'a1', '9', 1, ROOMY);
        assert.equal(await s.kvGet('f', 'a1'), '1');
        assert.equal(await s.kvGet('g', 'a1'), '9');
        assert.equal(await s.kvGet('f', 'zz'), undefined);
        assert.deepEqual(await s.kvList('f', 'a', 10), [
          { key: 'a%', json: '"x"' },
          { key: 'a1', json: '1' },
        ]);
        assert.deepEqual(await s.kvList('f', 'a%', 10), [{ key: 'a%', json: '"x"' }], '% is no wildcard');
        assert.equal((await s.kvList('f', '', 2)).length, 2);
        assert.deepEqual(await s.usage('f', 'kv'), { items: 3, bytes: 1 + 1 + 2 + 3 + 2 + 1 });
        await s.kvSet('f', 'b', '22', 2, ROOMY);
        assert.deepEqual(await s.usage('f', 'kv'), { items: 3, bytes: 11 }, 'a replaced value counts once');
        assert.equal(await s.kvDelete('f', 'b'), true);
        assert.equal(await s.kvDelete('f', 'b'), false);
        assert.deepEqual(await s.usage('f', 'kv'), { items: 2, bytes: 8 });
      }));

    test('a write past the quota is refused with the usage it would reach, and nothing is written', () =>
      withStores(open, async ({ plugins: s }) => {
        const quota = { items: 2, bytes: 10 };
        await s.kvSet('f', 'a', '1', 1, quota);
        await s.kvSet('f', 'b', '1', 1, quota);
        assert.deepEqual(await s.kvSet('f', 'c', '1', 1, quota), { refused: { items: 3, bytes: 6 } });
        assert.deepEqual(await s.kvSet('f', 'a', '"0123456789"', 1, quota), {
          refused: { items: 2, bytes: 15 },
        });
        assert.equal(await s.kvGet('f', 'c'), undefined);
        assert.equal(await s.kvGet('f', 'a'), '1');
        assert.equal(
          await s.kvSet('f', 'a', '1', 1, { items: 0, bytes: 0 }),
          undefined,
          'not growing is allowed',
        );
        assert.deepEqual(await s.docInsert('c', ['{"a":1}', '{"b":2}'], 'f', 1, { items: 1, bytes: 100 }), {
          refused: { items: 2, bytes: 14 },
        });
        assert.deepEqual(await s.usage('f', 'docs'), { items: 0, bytes: 0 });
      }));

    test('documents are inserted with distinct ids, read oldest first, deleted with their owners’ usage', () =>
      withStores(open, async ({ plugins: s }) => {
        const first = await s.docInsert('c', ['{"n":2}', '{"n":1}'], 'f', 1000, ROOMY);
        const second = await s.docInsert('c', ['{"n":3}'], 'g', 2000, ROOMY);
        await s.docInsert('other', ['{"n":4}'], 'f', 1000, ROOMY);
        assert.ok(Array.isArray(first) && Array.isArray(second));
        assert.equal(new Set([...first, ...second]).size, 3);
        const rows: StoredDoc[] = [];
        for await (const doc of s.docRows('c')) rows.push(doc);
        // Oldest first; documents inserted at the same time come in any order.
        assert.deepEqual(
          rows
            .slice(0, 2)
            .map((r) => r.json)
            .sort(),
          ['{"n":1}', '{"n":2}'],
        );
        assert.deepEqual(rows[2], { id: second[0], json: '{"n":3}' });
        assert.deepEqual(rows.map((r) => r.id).sort(), [...first, ...second].sort());
        assert.deepEqual(await s.usage('f', 'docs'), { items: 3, bytes: 21 });
        assert.equal(await s.docDelete('c', [first[0] ?? '', second[0] ?? '', 'missing']), 2);
        assert.deepEqual(await s.usage('f', 'docs'), { items: 2, bytes: 14 });
        assert.deepEqual(await s.usage('g', 'docs'), { items: 0, bytes: 0 });
      }));

    test('a deleted function’s kv keys and documents go with it; documents of others stay', () =>
      withStores(open, async ({ plugins: s }) => {
        await s.kvSet('f', 'a', '1', 1, ROOMY);
        await s.docInsert('c', ['{"by":"f"}'], 'f', 1, ROOMY);
        await s.docInsert('c', ['{"by":"g"}'], 'g', 1, ROOMY);
        await s.deleteFunctionData('f');
        assert.equal(await s.kvGet('f', 'a'), undefined);
        assert.deepEqual(await s.usage('f', 'kv'), { items: 0, bytes: 0 });
        assert.deepEqual(await s.usage('f', 'docs'), { items: 0, bytes: 0 });
        const rows: string[] = [];
        for await (const doc of s.docRows('c')) rows.push(doc.json);
        assert.deepEqual(rows, ['{"by":"g"}']);
      }));
  });
}
