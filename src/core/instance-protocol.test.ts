import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  CONTROL_FD,
  ENV,
  HANDLER_STYLES,
  HEADERS,
  invocationOf,
  parseTaggedLine,
  TAG_END,
  TAG_START,
  tagText,
} from './instance-protocol.ts';

const PYTHON_SHIM = readFileSync(new URL('../runtimes/instance/python/shim.py', import.meta.url), 'utf8');

test('the python shim spells every protocol name it repeats as the protocol does', () => {
  const envNames = new Set<string>(Object.values(ENV));
  const used = [...PYTHON_SHIM.matchAll(/"(KUMO_[A-Z_]+)"/g)].map((m) => m[1] ?? '');
  assert.ok(used.length >= 10, 'the shim takes its control variables by name');
  for (const name of used) assert.ok(envNames.has(name), `${name} is not a control variable of the protocol`);
  const headerNames = new Set<string>(Object.values(HEADERS));
  const headers = [...PYTHON_SHIM.matchAll(/"(x-kumo-[a-z-]+)"/g)].map((m) => m[1] ?? '');
  assert.ok(headers.includes(HEADERS.invocationId) && headers.includes(HEADERS.deadline));
  for (const name of headers) assert.ok(headerNames.has(name), `${name} is not a header of the protocol`);
  assert.match(PYTHON_SHIM, new RegExp(`^CONTROL_FD = ${CONTROL_FD}$`, 'm'));
  assert.match(PYTHON_SHIM, /^TAG_START = "\\x1e"$/m);
  assert.match(PYTHON_SHIM, /^TAG_END = "\\x1f"$/m);
  assert.equal(TAG_START, '\x1e');
  assert.equal(TAG_END, '\x1f');
  for (const style of HANDLER_STYLES.filter((s) => s !== 'fetch' && s !== 'node'))
    assert.ok(PYTHON_SHIM.includes(`"${style}"`), `the python shim knows the ${style} style`);
});

test('an invocation is read from its headers, with an id and a deadline made up only when missing', () => {
  const fresh = () => 'fresh-id';
  assert.deepEqual(
    invocationOf({ [HEADERS.invocationId]: 'abc', [HEADERS.deadline]: '5000' }, 100, fresh, 1000),
    {
      id: 'abc',
      deadline: 5000,
    },
  );
  assert.deepEqual(invocationOf({}, 100, fresh, 1000), { id: 'fresh-id', deadline: 1100 });
  assert.deepEqual(
    invocationOf({ [HEADERS.invocationId]: '', [HEADERS.deadline]: 'soon' }, 100, fresh, 1000),
    {
      id: 'fresh-id',
      deadline: 1100,
    },
  );
  assert.deepEqual(
    invocationOf({ [HEADERS.invocationId]: ['a', 'b'], [HEADERS.deadline]: '-5' }, 100, fresh, 1000),
    {
      id: 'fresh-id',
      deadline: 1100,
    },
  );
});

test('a tagged line round-trips through tagText and parseTaggedLine', () => {
  const { text } = tagText('hello\n', 'inv-1', true);
  assert.deepEqual(parseTaggedLine(text.trimEnd()), { invocationId: 'inv-1', text: 'hello' });
});
