import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { KumoError, ServerLog } from '../core/index.ts';
import { openSqliteStores, type SqliteStores } from '../store/index.ts';
import { scanDocs } from './doc-scan.ts';
import { DocsScanner } from './docs-scanner.ts';

const lines: string[] = [];
const log: ServerLog = {
  debug: () => {},
  info: () => {},
  warn: (m) => lines.push(m),
  error: (m) => lines.push(m),
};
const quota = { items: 1_000_000, bytes: 1 << 30 };
let dir = '';
let store: SqliteStores;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kumo-scan-'));
  store = openSqliteStores(path.join(dir, 'kumo.db'));
  const docs = store.plugins;
  const batch = Array.from({ length: 5000 }, (_, n) => JSON.stringify({ n }));
  await docs.docInsert('c', batch, 'a', Date.now(), quota);
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

test('scanDocs stops at the scan limit and at the answer size with docs_query_too_large', () => {
  const rows = Array.from({ length: 10 }, (_, i) => ({ id: `id${i}`, json: JSON.stringify({ n: i }) }));
  const req = { collection: 'c', query: { n: { $gte: 8 } }, limit: 10, want: 'docs' as const };
  assert.equal(
    scanDocs(rows, req, { scanLimit: 10, maxResultBytes: 1000 }),
    '[{"n":8,"_id":"id8"},{"n":9,"_id":"id9"}]',
  );
  const tooLarge = (err: KumoError) => err.code === 'docs_query_too_large' && err.status === 413;
  assert.throws(() => scanDocs(rows, req, { scanLimit: 5, maxResultBytes: 1000 }), tooLarge);
  assert.throws(() => scanDocs(rows, { ...req, query: {} }, { scanLimit: 10, maxResultBytes: 40 }), tooLarge);
  assert.equal(
    scanDocs(rows, { ...req, want: 'ids' }, { scanLimit: 10, maxResultBytes: 1000 }),
    '["id8","id9"]',
  );
});

test('the scanner answers from its worker, takes functions in turn, and refuses a function with too many waiting', async () => {
  const scanner = new DocsScanner({
    source: { dbFile: path.join(dir, 'kumo.db') },
    scanLimit: 100_000,
    queuePerFunction: 2,
    log,
  });
  try {
    const req = { collection: 'c', query: { n: { $gte: 4998 } }, limit: 10, want: 'docs' as const };
    assert.equal((JSON.parse(await scanner.scan('a', req)) as unknown[]).length, 2);
    const order: string[] = [];
    const track = (name: string, p: Promise<string>) => p.then(() => order.push(name));
    // a1 runs at once; a2 and a3 wait; a4 is one too many. b1 arrives last and still runs before a3.
    const a = [
      track('a1', scanner.scan('a', req)),
      track('a2', scanner.scan('a', req)),
      track('a3', scanner.scan('a', req)),
    ];
    const refused = await scanner.scan('a', req).then(
      () => undefined,
      (err: KumoError) => err,
    );
    assert.equal(refused?.code, 'plugin_busy');
    assert.equal(refused?.status, 429);
    assert.match(refused?.message ?? '', /--plugin-queue/);
    const b = track('b1', scanner.scan('b', req));
    await Promise.all([...a, b]);
    assert.deepEqual(order, ['a1', 'a2', 'b1', 'a3']);
    assert.ok(
      lines.some((l) => /too many waiting/.test(l)),
      'the refusal is logged',
    );
    const over = new DocsScanner({
      source: { dbFile: path.join(dir, 'kumo.db') },
      scanLimit: 100,
      queuePerFunction: 2,
      log,
    });
    await assert.rejects(over.scan('a', req), (err: KumoError) => err.code === 'docs_query_too_large');
    await over.close();
  } finally {
    await scanner.close();
  }
});

test('reading from the store itself (the PostgreSQL path) gives the same answers, turns and bounds', async () => {
  const scanner = new DocsScanner({
    source: { store: store.plugins },
    scanLimit: 100_000,
    queuePerFunction: 1,
    log,
  });
  try {
    const req = { collection: 'c', query: { n: { $gte: 4998 } }, limit: 10, want: 'docs' as const };
    const rows = JSON.parse(await scanner.scan('a', req)) as { n: number }[];
    // Inserted in one call, they share a time: their order is their random ids'.
    assert.deepEqual(
      rows.map((r) => r.n).sort((a, b) => a - b),
      [4998, 4999],
    );
    const first = scanner.scan('a', req);
    const second = scanner.scan('a', req);
    const refused = await scanner.scan('a', req).then(
      () => undefined,
      (err: KumoError) => err,
    );
    assert.equal(refused?.code, 'plugin_busy', 'one running and one waiting is the most');
    await Promise.all([first, second]);
    const ids = JSON.parse(await scanner.scan('a', { ...req, query: {}, limit: 3, want: 'ids' })) as string[];
    assert.equal(ids.length, 3, 'the scan stops at its limit');
  } finally {
    await scanner.close();
  }
  const over = new DocsScanner({
    source: { store: store.plugins },
    scanLimit: 100,
    queuePerFunction: 2,
    log,
  });
  await assert.rejects(
    over.scan('a', { collection: 'c', query: { n: -1 }, limit: 10, want: 'docs' }),
    (err: KumoError) => err.code === 'docs_query_too_large',
  );
  await over.close();
});
