/**
 * AWS Signature Version 4, the verifying side (the Lambda API's authentication): the canonical
 * request of what arrived, the string to sign, the signing key derived from a secret, and a
 * constant-time comparison with the signature the client sent. Written from AWS's specification
 * ("Create a signed AWS API request") and checked against AWS's published test suite
 * (sigv4.test.ts); header authentication only (`Authorization: AWS4-HMAC-SHA256 …`), which is
 * what the SDKs and the aws CLI send.
 */
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { KumoError } from '../core/index.ts';

/** The algorithm name in the Authorization header and the string to sign. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a request's X-Amz-Date may be from the server's clock, as on AWS. */
export const SIGV4_MAX_SKEW_MS = 15 * 60 * 1000;

/** What the client's Authorization header says. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** YYYYMMDD of the credential scope. */
  date: string;
  region: string;
  service: string;
  /** Lower-case header names, in the order sent. */
  signedHeaders: string[];
  /** 64 hex characters. */
  signature: string;
}

/** A request as received, for verification. */
export interface SigV4Request {
  method: string;
  /** The path as sent on the wire (still percent-encoded), without the query. */
  path: string;
  /** The raw query string, without "?". */
  query: string;
  /** Header names in lower case (Node's `req.headers`). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What a verification needs besides the request. */
export interface SigV4Options {
  /**
   * The signing key of an access key id for a credential scope (`signingKey` of its secret; a
   * caller may keep it, it is valid for the scope's day); undefined when the id is unknown.
   */
  keyOf: (accessKeyId: string, scope: SigV4Scope) => Promise<KeyObject | undefined>;
  /** The service the credential scope must name (`lambda`). */
  service: string;
  now: number;
}

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; invalid_signature when malformed. */
export function parseAuthorization(header: string | undefined): SigV4Authorization {
  if (header === undefined)
    throw new KumoError('unrecognized_client', 'the request is not signed: it has no Authorization header');
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space) !== SIGV4_ALGORITHM)
    throw malformed(`the Authorization header must start with ${SIGV4_ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = (fields.get('SignedHeaders') ?? '').split(';');
  const signature = fields.get('Signature') ?? '';
  const [accessKeyId, date, region, service, terminator] = credential;
  if (
    credential.length !== 5 ||
    !accessKeyId ||
    !/^\d{8}$/.test(date ?? '') ||
    !region ||
    !service ||
    terminator !== 'aws4_request'
  )
    throw malformed('Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw malformed('Signature must be 64 hex characters');
  if (!signedHeaders.includes('host') || signedHeaders.some((h) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h)))
    throw malformed('SignedHeaders must list lower-case header names including host');
  return { accessKeyId, date: date as string, region, service, signedHeaders, signature };
}

/**
 * Verifies a signed request: the header's form, the credential scope (date, service), the clock
 * skew, the payload hash and the signature. Resolves with the access key id; throws
 * unrecognized_client (unknown key) or invalid_signature (anything else).
 */
export async function verifySigV4(req: SigV4Request, o: SigV4Options): Promise<SigV4Authorization> {
  const auth = parseAuthorization(single(req.headers.authorization));
  const amzDate = single(req.headers['x-amz-date']);
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate))
    throw malformed('X-Amz-Date must be set as YYYYMMDDTHHMMSSZ and signed');
  if (!auth.signedHeaders.includes('x-amz-date')) throw malformed('X-Amz-Date must be a signed header');
  if (amzDate.slice(0, 8) !== auth.date)
    throw malformed(`the credential date ${auth.date} is not the day of X-Amz-Date ${amzDate}`);
  if (auth.service !== o.service)
    throw malformed(`the credential scope names the service '${auth.service}', not '${o.service}'`);
  const at = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!Number.isFinite(at) || Math.abs(o.now - at) > SIGV4_MAX_SKEW_MS)
    throw new KumoError(
      'invalid_signature',
      `Signature expired: ${amzDate} is more than 15 minutes from the server's time ${isoBasic(o.now)}`,
    );
  const payloadHash = checkedPayloadHash(req);
  const key = await o.keyOf(auth.accessKeyId, auth);
  if (key === undefined)
    throw new KumoError(
      'unrecognized_client',
      'The security token included in the request is invalid: unknown access key id',
    );
  const expected = signWith(key, auth, amzDate, canonicalRequest(req, auth.signedHeaders, payloadHash));
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex')))
    throw new KumoError(
      'invalid_signature',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  return auth;
}

/** The canonical request (method, path, query, signed headers, payload hash), one per line. */
export function canonicalRequest(
  req: SigV4Request,
  signedHeaders: readonly string[],
  payloadHash: string,
): string {
  const headers = signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(req.headers[name])}\n`)
    .join('');
  return [
    req.method.toUpperCase(),
    canonicalPath(req.path),
    canonicalQuery(req.query),
    headers,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** A credential scope: the day, region and service a signing key is derived for. */
export type SigV4Scope = Pick<SigV4Authorization, 'date' | 'region' | 'service'>;

/**
 * The signing key of `secret` for `scope` (four chained HMACs). Deriving it is most of a
 * verification's cost, so callers keep it for the day.
 */
export function signingKey(secret: string, scope: SigV4Scope): KeyObject {
  let key = hmac(`AWS4${secret}`, scope.date);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  return createSecretKey(hmac(key, 'aws4_request'));
}

/** The hex signature of a canonical request under `secret`. */
export function signature(secret: string, scope: SigV4Scope, amzDate: string, canonical: string): string {
  return signWith(signingKey(secret, scope), scope, amzDate, canonical);
}

/** The hex signature of a canonical request with a derived signing key. */
function signWith(key: KeyObject, scope: SigV4Scope, amzDate: string, canonical: string): string {
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = [SIGV4_ALGORITHM, amzDate, credentialScope, sha256Hex(canonical)].join('\n');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/**
 * The path as AWS canonicalises it for every service but S3: `.` and `..` segments resolved,
 * empty segments dropped, and each segment URI-encoded once more (the wire form is already
 * encoded once, so this is the "double encoding" of the specification).
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const joined = segments.map(uriEscape).join('/');
  return `/${joined}${segments.length && path.endsWith('/') ? '/' : ''}`;
}

/** The query sorted by name then value, each part decoded and URI-encoded again. */
export function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : decode(part.slice(eq + 1));
    if (name === 'X-Amz-Signature') continue;
    pairs.push([uriEscape(name), uriEscape(value)]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** RFC 3986 encoding: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
export function uriEscape(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** SHA-256 of `data` in hex. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `YYYYMMDDTHHMMSSZ` of an epoch time. */
export function isoBasic(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The payload hash that was signed: the body's SHA-256, which `X-Amz-Content-Sha256` must equal
 * when sent. An unsigned payload is refused: the body would not be authenticated.
 */
function checkedPayloadHash(req: SigV4Request): string {
  const actual = sha256Hex(req.body);
  const claimed = single(req.headers['x-amz-content-sha256']);
  if (claimed === undefined) return actual;
  if (claimed.toLowerCase() !== actual)
    throw new KumoError(
      'invalid_signature',
      claimed === 'UNSIGNED-PAYLOAD'
        ? 'unsigned payloads are not accepted: sign the body'
        : 'X-Amz-Content-Sha256 does not match the SHA-256 of the body',
    );
  return claimed.toLowerCase();
}

/** A header's value as AWS canonicalises it: values joined with ",", trimmed, inner spaces collapsed. */
function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = value === undefined ? [''] : Array.isArray(value) ? value : [value];
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw malformed('the query string is not valid percent-encoding');
  }
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function malformed(why: string): KumoError {
  return new KumoError('invalid_signature', `malformed AWS Signature Version 4: ${why}`);
}
