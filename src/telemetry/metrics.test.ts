import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from './metrics.ts';

test('counters, cumulative histogram buckets and scrape-time gauges in the exposition format', () => {
  const m = new Metrics();
  m.observeInvocation({
    function: 'a"b',
    version: 2,
    trigger: 'http',
    outcome: 'ok',
    durationMs: 3,
    cold: true,
  });
  m.observeInvocation({
    function: 'a"b',
    version: 2,
    trigger: 'http',
    outcome: 'ok',
    durationMs: 700,
    cold: false,
  });
  m.observeTick('a"b', 'skipped');
  m.observeCallback('delivered');
  const text = m.render({
    instances: [{ function: 'a"b', total: 3, busy: 1, starting: 1, waiting: 0 }],
    queue: [{ function: 'a"b', queued: 4, running: 1 }],
    oldestReadyAgeMs: 1500,
  });
  assert.match(
    text,
    /^kumo_invocations_total\{function="a\\"b",version="2",trigger="http",outcome="ok"\} 2$/m,
  );
  assert.match(
    text,
    /^kumo_invocation_duration_seconds_bucket\{function="a\\"b",trigger="http",le="0.005"\} 1$/m,
  );
  assert.match(
    text,
    /^kumo_invocation_duration_seconds_bucket\{function="a\\"b",trigger="http",le="1"\} 2$/m,
  );
  assert.match(text, /^kumo_invocation_duration_seconds_sum\{function="a\\"b",trigger="http"\} 0.703$/m);
  assert.match(text, /^kumo_cold_starts_total\{function="a\\"b",version="2"\} 1$/m);
  assert.match(text, /^kumo_instances\{function="a\\"b",state="warm"\} 2$/m);
  assert.match(text, /^kumo_queue_depth\{function="a\\"b",status="queued"\} 4$/m);
  assert.match(text, /^kumo_async_lag_seconds 1.5$/m);
  assert.match(text, /^kumo_schedule_ticks_total\{function="a\\"b",result="skipped"\} 1$/m);
  assert.match(text, /^kumo_callbacks_total\{result="delivered"\} 1$/m);
});
