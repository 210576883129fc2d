import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KumoError } from '../core/index.ts';
import { matches } from './doc-query.ts';

const doc = { name: 'Ada', age: 36, tags: ['math', 'code'], address: { city: 'London' } };

test('equality, operators, dotted paths and array fields', () => {
  assert.equal(matches(doc, {}), true);
  assert.equal(matches(doc, { name: 'Ada' }), true);
  assert.equal(matches(doc, { name: 'Bob' }), false);
  assert.equal(matches(doc, { age: { $gt: 30, $lte: 36 } }), true);
  assert.equal(matches(doc, { age: { $lt: 36 } }), false);
  assert.equal(matches(doc, { age: { $gte: 36 }, name: { $ne: 'Bob' } }), true);
  assert.equal(matches(doc, { name: { $in: ['Bob', 'Ada'] } }), true);
  assert.equal(matches(doc, { 'address.city': 'London' }), true);
  assert.equal(matches(doc, { tags: 'code' }), true, 'an array matches a value it holds');
  assert.equal(matches(doc, { age: { $gt: '3' } }), false, 'numbers and strings do not compare');
  assert.equal(matches(doc, { missing: { $eq: 1 } }), false);
});

test('an unknown operator is a plugin_error naming it', () => {
  assert.throws(
    () => matches(doc, { name: { $regex: 'A' } }),
    (err: KumoError) => err.code === 'plugin_error' && /\$regex/.test(err.message),
  );
});
