import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { parseTaggedLine, tagText } from '../../../core/index.ts';
import { tagStream } from './log-tag.ts';

test('parseTaggedLine splits a tagged line into its invocation id and text', () => {
  assert.deepEqual(parseTaggedLine('\u001eabc-123\u001fhello world'), {
    invocationId: 'abc-123',
    text: 'hello world',
  });
  assert.deepEqual(parseTaggedLine('\u001eabc\u001f'), { invocationId: 'abc', text: '' });
});

test('parseTaggedLine leaves untagged and malformed lines alone', () => {
  assert.deepEqual(parseTaggedLine('plain line'), { invocationId: null, text: 'plain line' });
  assert.deepEqual(parseTaggedLine('\u001eno end'), { invocationId: null, text: '\u001eno end' });
  assert.deepEqual(parseTaggedLine(''), { invocationId: null, text: '' });
});

test('tagText tags every line that starts in the text, and not the empty piece after the last newline', () => {
  assert.deepEqual(tagText('a\nb\n', 'id', true), {
    text: '\u001eid\u001fa\n\u001eid\u001fb\n',
    atLineStart: true,
  });
  assert.deepEqual(tagText('partial', 'id', true), { text: '\u001eid\u001fpartial', atLineStart: false });
  assert.deepEqual(tagText(' more\nnext', 'id', false), {
    text: ' more\n\u001eid\u001fnext',
    atLineStart: false,
  });
  assert.deepEqual(tagText('', 'id', false), { text: '', atLineStart: false });
});

test('tagText output parses back to the original lines', () => {
  const tagged = tagText('one\ntwo\n', 'inv-9', true).text;
  const lines = tagged.split('\n').filter(Boolean).map(parseTaggedLine);
  assert.deepEqual(lines, [
    { invocationId: 'inv-9', text: 'one' },
    { invocationId: 'inv-9', text: 'two' },
  ]);
});

test('tagStream tags writes made inside the store context only', () => {
  const written: string[] = [];
  const fake = {
    write: (chunk: unknown) => (written.push(String(chunk)), true),
  } as unknown as NodeJS.WriteStream;
  const store = new AsyncLocalStorage<string>();
  tagStream(fake, store);
  fake.write('outside\n');
  store.run('inv-1', () => {
    fake.write('inside\n');
    fake.write(Buffer.from('bytes\n'));
  });
  assert.deepEqual(written, ['outside\n', '\u001einv-1\u001finside\n', '\u001einv-1\u001fbytes\n']);
});
