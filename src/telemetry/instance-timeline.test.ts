import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InstanceTimeline } from './instance-timeline.ts';

test('peaks per bucket follow the recorded changes and carry the count across quiet buckets', () => {
  const t = new InstanceTimeline();
  t.record('f', 1, 50);
  t.record('f', 3, 120);
  t.record('f', 3, 130);
  t.record('f', 0, 150);
  t.record('f', 2, 390);
  assert.deepEqual(t.peaks('f', 0, 100, 5), [1, 3, 0, 2, 2]);
  assert.deepEqual(t.peaks('other', 0, 100, 2), [0, 0], 'nothing recorded: zeros');
  t.forget('f');
  assert.deepEqual(t.peaks('f', 0, 100, 1), [0]);
});

test('old change points are dropped, keeping the one that says how many there were at the cut', () => {
  const t = new InstanceTimeline({ maxAgeMs: 1000, maxPoints: 100 });
  t.record('f', 4, 0);
  t.record('f', 5, 10);
  t.record('f', 6, 5000);
  assert.deepEqual(t.peaks('f', 4500, 1000, 1), [6]);
  assert.deepEqual(t.peaks('f', 3000, 1000, 1), [5], 'the count before the window is known');
  const bounded = new InstanceTimeline({ maxPoints: 2 });
  for (let i = 0; i < 10; i++) bounded.record('f', i, i);
  assert.deepEqual(bounded.peaks('f', 0, 100, 1), [9]);
});
