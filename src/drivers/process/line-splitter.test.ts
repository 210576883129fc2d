import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { MAX_LINE_BYTES, splitLines } from './line-splitter.ts';

function collect(chunks: string[]): Promise<string[]> {
  const stream = new PassThrough();
  const lines: string[] = [];
  splitLines(stream, (l) => lines.push(l));
  return new Promise((resolve) => {
    stream.on('end', () => resolve(lines));
    for (const c of chunks) stream.write(c);
    stream.end();
  });
}

test('splits lines across chunk boundaries and keeps a last unterminated line', async () => {
  assert.deepEqual(await collect(['a\nb', 'c\r\n', '\nd']), ['a', 'bc', '', 'd']);
});

test('cuts overlong lines into pieces of the maximum size', async () => {
  const lines = await collect(['x'.repeat(MAX_LINE_BYTES * 2 + 5), '\n']);
  assert.deepEqual(
    lines.map((l) => l.length),
    [MAX_LINE_BYTES, MAX_LINE_BYTES, 5],
  );
});

test('a flood of short lines in one chunk is split in linear time', async () => {
  const chunk = 'flood line\n'.repeat(200_000);
  const t0 = performance.now();
  const lines = await collect([chunk]);
  assert.equal(lines.length, 200_000);
  // Quadratic re-slicing took seconds here; linear takes a few tens of ms.
  assert.ok(performance.now() - t0 < 1000);
});
