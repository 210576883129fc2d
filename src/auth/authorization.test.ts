import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { carriesKumoKey, credentialOf, stripKumoKey } from './authorization.ts';

test('Bearer and SharedSecret credentials are read, scheme case-insensitive; others are not', () => {
  assert.equal(credentialOf({ authorization: 'Bearer kumo_abc' }), 'kumo_abc');
  assert.equal(credentialOf({ authorization: 'sharedsecret kumo_abc' }), 'kumo_abc');
  assert.equal(credentialOf({ authorization: 'Basic dXNlcjpwYXNz' }), undefined);
  assert.equal(credentialOf({ authorization: 'Bearer' }), undefined);
  assert.equal(credentialOf({}), undefined);
});

test('a kumo key is removed from the request, headers and raw headers; other credentials stay', () => {
  const req = {
    headers: { authorization: 'Bearer kumo_0123456789ab_x', 'x-other': '1' },
    rawHeaders: ['Authorization', 'Bearer kumo_0123456789ab_x', 'X-Other', '1'],
  } as unknown as IncomingMessage;
  assert.ok(carriesKumoKey(req.headers));
  stripKumoKey(req);
  assert.deepEqual(req.headers, { 'x-other': '1' });
  assert.deepEqual(req.rawHeaders, ['X-Other', '1']);
  const own = {
    headers: { authorization: 'Bearer eyJhbGciOi.jwt' },
    rawHeaders: ['authorization', 'Bearer eyJhbGciOi.jwt'],
  } as unknown as IncomingMessage;
  stripKumoKey(own);
  assert.equal(own.headers.authorization, 'Bearer eyJhbGciOi.jwt');
});
