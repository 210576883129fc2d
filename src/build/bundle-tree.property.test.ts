/**
 * Property: whatever entries an archive holds, in whatever order, extraction either refuses it
 * (invalid_archive, nothing written) or leaves a destination whose every path, resolved by the
 * real file system, stays inside it — and nothing appears beside the destination.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Header } from 'tar';
import { KumoError } from '../core/index.ts';
import { extractBundle } from './archive.ts';

type Item =
  | { type: 'File'; path: string; body: string }
  | { type: 'Directory'; path: string }
  | { type: 'SymbolicLink'; path: string; linkpath: string };

/** Raw tar blocks, so any path, target and order can be written, hostile ones included. */
function tarOf(items: Item[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of items) {
    const body = Buffer.from(e.type === 'File' ? e.body : '');
    const header = Buffer.alloc(512);
    new Header({
      path: e.path,
      type: e.type,
      size: body.length,
      mode: e.type === 'Directory' ? 0o755 : 0o644,
      linkpath: e.type === 'SymbolicLink' ? e.linkpath : '',
      mtime: new Date(0),
    }).encode(header, 0);
    blocks.push(header);
    if (body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

// `.` and `..` are rare in entry paths (common in targets), or most archives would be refused
// at once; as it is, about 40% are extracted.
const pathName = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom('a', 'b', 'q', 'c') },
  { weight: 1, arbitrary: fc.constantFrom('.', '..') },
);
const targetName = fc.constantFrom('a', 'b', 'q', '.', '..', '..');
const entryPath = fc.array(pathName, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const target = fc.oneof(
  { weight: 8, arbitrary: fc.array(targetName, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')) },
  { weight: 1, arbitrary: fc.constantFrom('/', '/a', 'q/..', './', 'a/') },
);
const item: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('File' as const),
      path: entryPath,
      body: fc.constantFrom('x', 'pwned'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('Directory' as const), path: entryPath }) },
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant('SymbolicLink' as const), path: entryPath, linkpath: target }),
  },
);

// Deeper than any escape these archives could make (at most 6 links of at most 3 `..` each,
// walked by paths of at most 3 names), so even a broken extractor writes only inside `parent`.
const FENCE = Array.from({ length: 64 }, () => 'n');

/** Every path under `dir`, never following links; `skip` is not entered. */
async function walk(dir: string, skip?: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = path.join(dir, name);
    out.push(p);
    if (p !== skip && (await lstat(p)).isDirectory()) out.push(...(await walk(p, skip)));
  }
  return out;
}

test('extraction never reaches outside the destination', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 6 }), async (items) => {
      const parent = await mkdtemp(path.join(os.tmpdir(), 'kumo-prop-'));
      try {
        const fence = path.join(parent, ...FENCE);
        const dest = path.join(fence, 'dest');
        await mkdir(dest, { recursive: true });
        let refused = false;
        try {
          await extractBundle(tarOf(items), dest);
        } catch (err) {
          assert.ok(err instanceof KumoError && err.code === 'invalid_archive', String(err));
          refused = true;
        }
        const inside = await realpath(dest);
        if (refused) assert.deepEqual(await readdir(dest), [], 'a refused archive writes nothing');
        for (const p of await walk(dest)) {
          const st = await lstat(p);
          if (st.isFile()) assert.ok([0o644, 0o755].includes(st.mode & 0o7777), `mode of ${p}`);
          const real = await realpath(p).catch(() => undefined); // dangling or a loop
          if (real !== undefined)
            assert.ok(real === inside || real.startsWith(inside + path.sep), `${p} resolves to ${real}`);
        }
        const fenceDirs = new Set(FENCE.map((_, i) => path.join(parent, ...FENCE.slice(0, i + 1))));
        for (const p of await walk(parent, dest))
          assert.ok(p === dest || fenceDirs.has(p), `${p} was created beside the destination`);
      } finally {
        await rm(parent, { recursive: true, force: true });
      }
    }),
    { numRuns: 200 },
  );
});
