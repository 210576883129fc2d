import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalPath,
  canonicalQuery,
  sha256Hex,
  signingKey,
  verifySigV4,
  type SigV4Request,
  type SigV4Scope,
} from './sigv4.ts';

// AWS's published Signature Version 4 test suite
// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html): its credentials,
// date, region and service, and the signature each request must have.
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);
const VECTORS: {
  name: string;
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  signed: string;
  signature: string;
}[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    path: '/',
    signed: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    path: '/',
    signed: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    path: '/',
    query: 'Param2=value2&Param1=value1',
    signed: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    path: '/',
    headers: { 'my-header1': 'VALUE1' },
    signed: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'normalize-path/get-special-character',
    method: 'GET',
    path: '/example/$delete',
    signed: 'host;x-amz-date',
    signature: 'a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27',
  },
];

function request(v: (typeof VECTORS)[number], signature = v.signature): SigV4Request {
  return {
    method: v.method,
    path: v.path,
    query: v.query ?? '',
    body: Buffer.alloc(0),
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      ...v.headers,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${v.signed}, Signature=${signature}`,
    },
  };
}

const keyOf = async (id: string, scope: SigV4Scope) =>
  id === 'AKIDEXAMPLE' ? signingKey(SECRET, scope) : undefined;

for (const v of VECTORS) {
  test(`verifies AWS's test-suite request ${v.name}`, async () => {
    const auth = await verifySigV4(request(v), { keyOf, service: 'service', now: AT });
    assert.equal(auth.accessKeyId, 'AKIDEXAMPLE');
  });
}

test('a signature off by one character is invalid_signature', async () => {
  const v = VECTORS[0] as (typeof VECTORS)[number];
  const bad = `${v.signature.slice(0, -1)}0`;
  await assert.rejects(verifySigV4(request(v, bad), { keyOf, service: 'service', now: AT }), {
    code: 'invalid_signature',
  });
});

test('a changed body, header or query no longer verifies', async () => {
  const v = VECTORS[3] as (typeof VECTORS)[number];
  const changed = request(v);
  changed.headers['my-header1'] = 'VALUE2';
  await assert.rejects(verifySigV4(changed, { keyOf, service: 'service', now: AT }), {
    code: 'invalid_signature',
  });
  const body = { ...request(VECTORS[1] as (typeof VECTORS)[number]), body: Buffer.from('x') };
  await assert.rejects(verifySigV4(body, { keyOf, service: 'service', now: AT }), {
    code: 'invalid_signature',
  });
  const q = { ...request(VECTORS[2] as (typeof VECTORS)[number]), query: 'Param2=value2&Param1=value9' };
  await assert.rejects(verifySigV4(q, { keyOf, service: 'service', now: AT }), {
    code: 'invalid_signature',
  });
});

test('a request more than 15 minutes from the server clock is stale', async () => {
  const v = VECTORS[0] as (typeof VECTORS)[number];
  await assert.rejects(verifySigV4(request(v), { keyOf, service: 'service', now: AT + 16 * 60_000 }), {
    code: 'invalid_signature',
    message: /Signature expired/,
  });
  await verifySigV4(request(v), { keyOf, service: 'service', now: AT + 14 * 60_000 });
});

test('an unknown access key is unrecognized_client; another service or a malformed header is invalid_signature', async () => {
  const v = VECTORS[0] as (typeof VECTORS)[number];
  const unknown = request(v);
  unknown.headers.authorization = String(unknown.headers.authorization).replace('AKIDEXAMPLE', 'AKIDOTHER');
  await assert.rejects(verifySigV4(unknown, { keyOf, service: 'service', now: AT }), {
    code: 'unrecognized_client',
  });
  await assert.rejects(verifySigV4(request(v), { keyOf, service: 'lambda', now: AT }), {
    code: 'invalid_signature',
  });
  for (const authorization of [
    'AWS4-HMAC-SHA256',
    'Bearer x',
    'AWS4-HMAC-SHA256 Credential=a/b/c, Signature=zz',
  ]) {
    const r = request(v);
    r.headers.authorization = authorization;
    await assert.rejects(verifySigV4(r, { keyOf, service: 'service', now: AT }), {
      code: 'invalid_signature',
    });
  }
});

test('X-Amz-Content-Sha256 must be the body hash; UNSIGNED-PAYLOAD is refused', async () => {
  const v = VECTORS[1] as (typeof VECTORS)[number];
  const r = request(v);
  r.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  await assert.rejects(verifySigV4(r, { keyOf, service: 'service', now: AT }), {
    message: /unsigned payloads/,
  });
  r.headers['x-amz-content-sha256'] = sha256Hex('other');
  await assert.rejects(verifySigV4(r, { keyOf, service: 'service', now: AT }), {
    code: 'invalid_signature',
  });
});

test('canonical path and query follow the specification', () => {
  assert.equal(
    canonicalPath('/2015-03-31/functions/my%3Afn/invocations'),
    '/2015-03-31/functions/my%253Afn/invocations',
  );
  assert.equal(canonicalPath('/a/./b/../c//d/'), '/a/c/d/');
  assert.equal(canonicalPath(''), '/');
  assert.equal(canonicalQuery('b=2&a=%20x&a=1&c'), 'a=%20x&a=1&b=2&c=');
  assert.equal(canonicalQuery("k=*'()!"), 'k=%2A%27%28%29%21');
});
