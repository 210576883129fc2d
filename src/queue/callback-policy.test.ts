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

test('IPv6 forms embedding a refused IPv4 (NAT64, mapped, compatible, 6to4, Teredo) are refused', () => {
  const p = new CallbackPolicy([]);
  for (const address of [
    '64:ff9b::a9fe:a9fe', // NAT64 well-known prefix (RFC 6052), 169.254.169.254
    '64:ff9b::169.254.169.254',
    '64:ff9b:1:a9fe:a9:fe00::', // NAT64 local-use prefix, /48 embedding
    '64:ff9b:1::a9fe:a9fe', // local-use, /96 embedding
    '::a9fe:a9fe', // IPv4-compatible
    '::ffff:a9fe:a9fe', // IPv4-mapped
    '::ffff:0:a9fe:a9fe', // IPv4-translated (SIIT)
    '2002:a9fe:a9fe::1', // 6to4
    '2001:0:4136:e378:8000:63bf:5601:5601', // Teredo, client 169.254.169.254 (bits inverted)
    'fe80::5efe:a9fe:a9fe', // ISATAP (and link-local)
    '64:ff9b::6464:64c8', // NAT64 of the Alibaba metadata 100.100.100.200
    '64:ff9b::7f00:1', // NAT64 of loopback: plain loopback is allowed, its translations never
    '::7f00:1',
    '::ffff:127.0.0.1',
    '2002:7f00:1::',
    '::',
    '0:0:0:0:0:0:0:0',
  ]) {
    assert.ok(p.addressProblem(address, false), address);
    assert.throws(() => p.checkUrl(`http://[${address}]:8080/`), refused, address);
  }
  for (const address of ['64:ff9b::808:808', '2002:808:808::1', '2001:db8::1', '::1', '::ffff:8.8.8.8']) {
    assert.equal(p.addressProblem(address, false), undefined, address);
  }
  const listed = new CallbackPolicy(['10.0.0.0/8']);
  assert.equal(listed.addressProblem('::ffff:10.1.2.3', false), undefined, 'mapped form of a listed address');
  assert.ok(listed.addressProblem('64:ff9b::7f00:1', false));
});

test('after DNS: a name resolving only to an embedded metadata address is refused', async () => {
  const resolver = (answers: { address: string; family: number }[]) =>
    ((_host: string, _options: unknown, cb: (err: Error | null, a: typeof answers) => void) =>
      cb(null, answers)) as unknown as NonNullable<ConstructorParameters<typeof CallbackPolicy>[1]>;
  const p = new CallbackPolicy(
    [],
    resolver([
      { address: '64:ff9b::a9fe:a9fe', family: 6 },
      { address: '::ffff:169.254.169.254', family: 6 },
    ]),
  );
  const err = await new Promise<Error | null>((resolve) => p.lookup('rebind.example', {}, (e) => resolve(e)));
  assert.ok(err && /refused addresses/.test(err.message), String(err));
  const mixed = new CallbackPolicy(
    [],
    resolver([
      { address: '64:ff9b::7f00:1', family: 6 },
      { address: '93.184.215.14', family: 4 },
    ]),
  );
  const address = await new Promise<string>((resolve, reject) =>
    mixed.lookup('mixed.example', {}, (e, a) => (e ? reject(e) : resolve(String(a)))),
  );
  assert.equal(address, '93.184.215.14', 'only the allowed address is used');
});
