/**
 * The API key format and its hash. A key is `kumo_<id>_<secret>`: the id (12 hex) is public and
 * names the key in listings and the audit log; the secret is 32 random bytes (base64url). Only the
 * sha256 of the whole key is stored: with 256 bits of entropy a slow hash adds nothing, and a
 * fast one keeps every control-plane request cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every kumo key starts with this, so that it can be recognised (and stripped, and scanned for). */
export const KEY_PREFIX = 'kumo_';

const KEY_FORMAT = /^kumo_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A freshly made key: shown once, then only its hash is kept. */
export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
}

/** Makes a key from `random` (node:crypto's randomBytes unless a test passes its own). */
export function newApiKey(random: (n: number) => Buffer = randomBytes): NewApiKey {
  const id = random(6).toString('hex');
  const key = `${KEY_PREFIX}${id}_${random(32).toString('base64url')}`;
  return { id, key, hash: hashApiKey(key) };
}

/** The public id of a well-formed key, or undefined when `text` is not one. */
export function keyIdOf(text: string): string | undefined {
  return KEY_FORMAT.exec(text)?.[1];
}

/** sha256 of the key, hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Compares two hex sha256 digests in constant time. Both sides are digests of the same length, so
 * the time taken says nothing about how much of a guessed key was right.
 */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  if (x.length !== 32 || y.length !== 32) return false;
  return timingSafeEqual(x, y);
}
