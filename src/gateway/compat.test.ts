import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compatUrl } from './compat.ts';

test('shortedfaas routes map to kumo routes, keeping the query', () => {
  const cases: [string, string | undefined][] = [
    ['/f/jq', '/fn/jq/'],
    ['/f/jq?x=1', '/fn/jq/?x=1'],
    ['/a/jq', '/async/fn/jq/'],
    ['/r/jq/abc-123', '/invocations/abc-123?function=jq'],
    ['/list', '/api/v1/functions'],
    ['/history', '/api/v1/history'],
    ['/history?limit=5', '/api/v1/history?limit=5'],
    ['/history/abc', '/api/v1/invocations/abc'],
    ['/f/Not_A_Name', undefined],
    ['/f', undefined],
    ['/r/jq', undefined],
    ['/fn/jq', undefined],
    ['/list/x', undefined],
    ['/api/v1/functions', undefined],
  ];
  for (const [url, want] of cases) assert.equal(compatUrl('localhost:8080', url, 'localhost'), want, url);
});

test('a function host keeps its own /list, /f, … paths', () => {
  assert.equal(compatUrl('greet.localhost:8080', '/list', 'localhost'), undefined);
  assert.equal(compatUrl('greet.localhost', '/f/x', 'localhost'), undefined);
});
