import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyRequest, controlRequirement } from './access-rules.ts';

test('control-plane routes need the scope of their rule; a route without a rule needs admin', () => {
  assert.deepEqual(controlRequirement('GET', '/functions').need, 'read');
  assert.deepEqual(controlRequirement('HEAD', '/functions/greet/logs').need, 'read');
  assert.deepEqual(controlRequirement('POST', '/functions').need, 'deploy');
  assert.deepEqual(controlRequirement('DELETE', '/functions/greet/').need, 'deploy');
  assert.deepEqual(controlRequirement('POST', '/functions/greet/rollback').need, 'deploy');
  assert.deepEqual(controlRequirement('PUT', '/functions/greet/secrets/TOKEN').need, 'deploy');
  assert.deepEqual(controlRequirement('POST', '/keys').need, 'admin');
  assert.deepEqual(controlRequirement('GET', '/whoami').need, 'any');
  const unknown = controlRequirement('POST', '/something-new');
  assert.deepEqual([unknown.need, unknown.explicit], ['admin', false]);
  // A method the rule does not name falls to the default too.
  assert.deepEqual(controlRequirement('PATCH', '/functions/greet').need, 'admin');
  // Path tricks do not match a weaker rule.
  assert.deepEqual(controlRequirement('GET', '/functions/../keys').need, 'admin');
  assert.deepEqual(controlRequirement('GET', '//functions').need, 'admin');
});

test('requests are classified: API, invocations by path and by Host, results, listings, default deny', () => {
  assert.deepEqual(classifyRequest('GET', '/healthz', undefined), { kind: 'open', route: '/healthz' });
  assert.deepEqual(classifyRequest('POST', '/fn/greet/x/y', undefined), {
    kind: 'invoke',
    function: 'greet',
  });
  assert.deepEqual(classifyRequest('GET', '/fn/greet', undefined), { kind: 'invoke', function: 'greet' });
  assert.deepEqual(classifyRequest('POST', '/async/fn/greet', undefined), {
    kind: 'invoke',
    function: 'greet',
  });
  assert.deepEqual(classifyRequest('POST', '/f/greet', undefined), { kind: 'invoke', function: 'greet' });
  assert.deepEqual(classifyRequest('POST', '/a/greet', undefined), { kind: 'invoke', function: 'greet' });
  assert.deepEqual(classifyRequest('GET', '/r/greet/123', undefined), { kind: 'invoke', function: 'greet' });
  assert.deepEqual(classifyRequest('GET', '/invocations/abc', undefined), {
    kind: 'result',
    invocationId: 'abc',
  });
  // Host routing wins over every path, as the gateway routes it.
  assert.deepEqual(classifyRequest('GET', '/api/v1/keys', 'greet'), { kind: 'invoke', function: 'greet' });
  const list = classifyRequest('GET', '/list', undefined);
  assert.equal(list.kind === 'guarded' && list.need, 'read');
  const metrics = classifyRequest('GET', '/metrics', undefined);
  assert.equal(metrics.kind === 'guarded' && metrics.need, 'read');
  const api = classifyRequest('DELETE', '/api/v1/functions/greet', undefined);
  assert.deepEqual(api, {
    kind: 'guarded',
    need: 'deploy',
    route: '/api/v1/functions/:name',
    function: 'greet',
    explicit: true,
  });
  const elsewhere = classifyRequest('GET', '/admin', undefined);
  assert.equal(elsewhere.kind === 'guarded' && elsewhere.need, 'admin');
  const bare = classifyRequest('GET', '/fn/', undefined);
  assert.equal(bare.kind === 'guarded' && bare.need, 'admin');
});
