import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KumoError } from '../core/index.ts';
import { CallbackPolicy } from './callback-policy.ts';

const refused = (err: KumoError) => err.code === 'callback_not_allowed' && err.status === 400;

test('without an allow-list, loopback and public hosts pass; metadata and link-local never do', () => {
  const p = new CallbackPolicy([]);
  assert.equal(p.checkUrl('http://127.0.0.1:9000/hook').hostname, '127.0.0.1');
  assert.ok(p.checkUrl('https://hooks.example.com/x'));
  for (const url of [
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://[fe80::1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://100.100.100.200/',
    'http://metadata.google.internal/',
    'http://metadata/',
    'ftp://example.com/',
    'http://user:pw@example.com/',
    'not a url',
  ]) {
    assert.throws(() => p.checkUrl(url), refused, url);
  }
  assert.match(p.addressProblem('::ffff:169.254.169.254', false) ?? '', /metadata/);
});

test('with an allow-list, only listed networks and names pass, and metadata stays refused', () => {
  const p = new CallbackPolicy(['10.0.0.0/8', '*.hooks.example.com', 'exact.example.org']);
  assert.ok(p.checkUrl('http://10.1.2.3/'));
  assert.throws(() => p.checkUrl('http://127.0.0.1/'), refused, 'loopback is not listed');
  assert.ok(p.checkUrl('https://a.hooks.example.com/'));
  assert.ok(p.checkUrl('https://exact.example.org/'));
  assert.equal(p.addressProblem('192.168.1.1', false), 'not on the callback allow-list (--callback-allow)');
  assert.equal(
    p.addressProblem('192.168.1.1', true),
    undefined,
    'a name on the list may resolve anywhere but metadata',
  );
  assert.match(p.addressProblem('169.254.169.254', true) ?? '', /metadata/);
  assert.throws(() => new CallbackPolicy(['10.0.0.0/99']), /prefix/);
  assert.throws(() => new CallbackPolicy(['not valid!']), /CIDR/);
});

test('names are checked again at connect time: a name resolving only to refused addresses fails', async () => {
  const p = new CallbackPolicy(['10.0.0.0/8']);
  const err = await new Promise<Error | null>((resolve) => p.lookup('localhost', {}, (e) => resolve(e)));
  assert.ok(
    err && /refused addresses/.test(err.message),
    'localhost resolves to loopback, which is not listed',
  );
  const open = new CallbackPolicy([]);
  const address = await new Promise<string>((resolve, reject) =>
    open.lookup('localhost', {}, (e, a) => (e ? reject(e) : resolve(String(a)))),
  );
  assert.match(address, /^(127\.|::1)/);
});
